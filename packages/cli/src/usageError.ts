// A mistyped command line (unknown option or command, missing argument) as a LilyError: one line
// naming what was wrong and the command it was given to, and a hint pointing at that command's
// help, instead of commander's message followed by the whole help text.
import type { Command, CommanderError } from "commander";
// The errors alone: the whole protocol (zod, viem) would cost `lily --help` ~0.3 s.
import { LilyError } from "@lily/protocol/errors";

/** Commander's own output: help and the version, already printed; not errors to report. */
const notErrors = new Set(["commander.help", "commander.helpDisplayed", "commander.version"]);

/** `lily jobs show` for the `show` subcommand of `jobs`. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

export function usageError(cmd: Command, err: CommanderError): LilyError {
  // Commander carries the name at fault and its suggestion only in its message, e.g.
  // "error: unknown option '--max-prise'\n(Did you mean --max-price?)".
  const path = commandPath(cmd);
  const [said = "", ...rest] = err.message.replace(/^error: /, "").split("\n");
  const first = said.replace(/\.$/, "").replace(` for '${cmd.name()}'`, ` for '${path}'`);
  // The quoted name before " for '<command>'": '--max-price <lily>' names --max-price.
  const named = /'([^' ]+)[^']*'/.exec(first.split(" for '")[0]!)?.[1];
  const suggestion = rest.map((line) => /^\(Did you mean (.+)\?\)$/.exec(line.trim())?.[1]).find(Boolean);
  const where = cmd.parent && !first.includes(` for '${path}'`) ? ` for '${path}'` : "";
  return new LilyError({
    code: "INVALID_INPUT",
    field: named,
    message: `${first}${where}`,
    hint: `${suggestion ? `did you mean ${suggestion}? ` : ""}see \`${path} --help\``,
  });
}

/**
 * Make every command (registered by now) throw its usage errors as LilyErrors for the caller to
 * print, and print nothing itself but help and the version.
 */
export function oneLineUsageErrors(cmd: Command): void {
  cmd.configureOutput({ outputError: () => {} });
  cmd.exitOverride((err) => {
    throw notErrors.has(err.code) ? err : usageError(cmd, err);
  });
  for (const sub of cmd.commands) oneLineUsageErrors(sub);
}
