// `lily --help` (also `lily -h`, `lily help`, after `--home <dir>` or not) printed from the text
// the bundle's build rendered with commander (dist/help.json, scripts/bundle.ts), without loading
// commander, the command table or Node's stream classes: the top-level help is a fixed text (the
// command table's names and descriptions, wrapped at a fixed width), and rendering it again on every
// call cost ~13 ms of the ~30 a `lily --help` spent above a bare `node` start. Everything else,
// `lily run --help` included, is printed by commander as before.
//
// Plain JS, like the rest of the shim. The text is printed only while the few sources it was
// rendered from are unchanged (checked as currentBundle.js checks all of them), so it is never
// older than the sources.

import { sourcesUnchanged } from "./currentBundle.js";

const HELP_WORDS = new Set(["--help", "-h", "help"]);

/** Whether `args` (process.argv after node and the script) ask for the top-level help and nothing else. */
export function asksTopLevelHelp(args) {
  const rest = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--home" && i + 1 < args.length) i++;
    else if (!args[i].startsWith("--home=")) rest.push(args[i]);
  }
  return rest.length === 1 && HELP_WORDS.has(rest[0]);
}

/**
 * Writes the build's top-level help to stdout and says whether it did; false (nothing written)
 * when the build left none, one of its sources changed since, or LILY_FROM_SOURCE=1 asks for the
 * sources, so commander prints it instead. Written straight to the descriptor: process.stdout would
 * load Node's streams (~5 ms) for one write.
 */
export function printStaticHelp(dist = new URL("../dist/", import.meta.url)) {
  if (process.env.LILY_FROM_SOURCE === "1") return false;
  const fs = process.getBuiltinModule("node:fs");
  let help;
  try {
    help = JSON.parse(fs.readFileSync(new URL("help.json", dist), "utf8"));
  } catch {
    return false; // not built
  }
  if (!sourcesUnchanged(help.inputs, dist)) return false;
  const text = Buffer.from(help.text);
  let written = 0;
  try {
    while (written < text.length) written += fs.writeSync(1, text, written);
  } catch (e) {
    // A reader that stopped early (`lily --help | head -3`) is not an error, as in main.ts.
    if (e.code === "EPIPE") return true;
    // A non-blocking stdout that is full: the stream waits for it.
    if (e.code === "EAGAIN") process.stdout.write(text.subarray(written));
    else throw e;
  }
  return true;
}
