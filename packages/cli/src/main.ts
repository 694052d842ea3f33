// The `lily` command: the composition root. It maps flags onto each package's options, starts
// roles, and is the only code that prints. Errors end up here as one line and an exit code.
import { Command, CommanderError } from "commander";
import { oneLineUsageErrors } from "./usageError.ts";
import { exitsWhenDone, registerCommands, shortLivedCommand, signsEarly } from "./commands/index.ts";
import { growYoungGenerationAtOnce } from "./shortLivedHeap.ts";

/** Columns help is wrapped to: commander's own default where it cannot ask the terminal. */
const HELP_WIDTH = 80;

// A reader that stops early (`lily module list | head`) is not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

const program = new Command("lily")
  .description("Lily: a decentralized compute network where verification is chosen per job")
  .version("0.1.0")
  .option("--home <dir>", "where keys, data and network.json live (default: $LILY_HOME or ~/.lily)")
  // One width in every terminal (commands inherit it), so help reads the same everywhere and
  // `lily --help` can be printed from the text the bundle's build rendered (bin/staticHelp.js).
  .configureHelp({ helpWidth: HELP_WIDTH });

const args = process.argv.slice(2);
// First, so the key's scrypt runs on the thread pool while the command's modules load.
if (signsEarly(args)) (await import("./earlyKey.ts")).startSigningKey(args);
// Before the command's modules load: they are most of what its heap ever holds, and they make
// the schemas zod parses with.
if (shortLivedCommand(args)) {
  growYoungGenerationAtOnce();
  await import("./zodWithoutJit.ts");
}
// Only the command asked for is loaded (see commands/index.ts).
await registerCommands(program, args);
oneLineUsageErrors(program);

try {
  await program.parseAsync(process.argv);
  // Done: exit once the output is written, as every error below already does. Left to end on its
  // own, the process was torn down after its last line (the journal's SQLite closed with a WAL
  // checkpoint and two fsyncs, the heap freed): 30-50 ms more of every `lily run` (strace). What
  // the journal committed is in its WAL, which the next open reads, as after a crash.
  if (exitsWhenDone(args)) await flushed().then(() => process.exit());
} catch (err) {
  // Help and the version are printed by commander; bare `lily` prints its help as an error.
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  // Loaded only now: printing an error needs the protocol's wire format, help does not.
  const { printError } = await import("./output.ts");
  process.exit(printError(err, process.argv.includes("--json")));
}

/** Resolves once what was written to stdout and stderr has been handed to the system. */
function flushed(): Promise<unknown> {
  return Promise.all([process.stdout, process.stderr].map((s) => new Promise((resolve) => s.write("", resolve))));
}
