// The only place that prints. Human output goes to stdout as short lines; with --json the
// command prints one JSON document at the end instead; progress goes to stderr so stdout can be
// piped. Errors become one line: `error: <message>` plus a hint line when there is one.
import { LilyError, wireJson } from "@lily/protocol";

export interface Output {
  json: boolean;
  line(text?: string): void;
  progress(text: string): void;
  result(value: unknown): void;
}

export function createOutput(opts: { json?: boolean; quiet?: boolean } = {}): Output {
  const json = opts.json ?? false;
  return {
    json,
    line: (text = "") => {
      if (!json) process.stdout.write(`${text}\n`);
    },
    progress: (text) => {
      if (!opts.quiet) process.stderr.write(`${json ? "" : "› "}${text}\n`);
    },
    result: (value) => {
      if (json) process.stdout.write(`${wireJson(value, 2)}\n`);
    },
  };
}

/** Exit codes by error class, so scripts can tell bad input from a failed job. */
const exitCodes: Record<string, number> = {
  INVALID_INPUT: 2,
  UNKNOWN_MODULE: 2,
  CONFIG: 3,
  UNREACHABLE: 4,
  INSUFFICIENT_DEPOSIT: 5,
  NO_MATCH: 6,
  DEADLINE_PASSED: 7,
  EXECUTION_FAILED: 8,
  SANDBOX_LIMIT: 8,
};

export function printError(err: unknown, json = false): number {
  if (err instanceof LilyError) {
    const code = exitCodes[err.code] ?? 1;
    if (json) process.stdout.write(`${wireJson({ error: err.toJSON() }, 2)}\n`);
    process.stderr.write(`error: ${err.message}${err.message.includes(err.code) ? "" : ` [${err.code}]`}\n`);
    if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
    return code;
  }
  const e = err as Error;
  process.stderr.write(`error: ${e?.message ?? String(err)} [INTERNAL]\n`);
  if (process.env.LILY_DEBUG && e?.stack) process.stderr.write(`${e.stack}\n`);
  return 1;
}
