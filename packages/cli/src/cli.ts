// What every `lily` process does around its command: the program and its global options, usage
// errors as one line, exiting once a short-lived command's output is written, and every other
// error printed as one line with an exit code. Its two entries (main.ts, every command loaded on
// demand; runMain.ts, `lily run` alone) say how the command is prepared, registered and reported.
import { Command, CommanderError } from "commander";
import { oneLineUsageErrors } from "./usageError.ts";

/** Columns help is wrapped to: commander's own default where it cannot ask the terminal. */
const HELP_WIDTH = 80;

export interface Entry {
  /** Registers on `program` the command `args` ask for (with whatever it loads first). */
  register(program: Command, args: string[]): Promise<void>;
  /** Whether the command leaves nothing running once its action returns, so the process exits then. */
  exitsWhenDone(args: string[]): boolean;
  /** The error printer (loaded only for an error: help does not need the protocol's wire format); returns the exit code. */
  printError(): Promise<(err: unknown, json: boolean) => number>;
}

export async function runCli(entry: Entry, argv: string[] = process.argv): Promise<void> {
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

  const args = argv.slice(2);
  await entry.register(program, args);
  oneLineUsageErrors(program);

  try {
    await program.parseAsync(argv);
    // Done: exit once the output is written, as every error below already does. Left to end on its
    // own, the process was torn down after its last line (the journal's SQLite closed with a WAL
    // checkpoint and two fsyncs, the heap freed): 30-50 ms more of every `lily run` (strace). What
    // the journal committed is in its WAL, which the next open reads, as after a crash.
    if (entry.exitsWhenDone(args)) await flushed().then(() => process.exit());
  } catch (err) {
    // Help and the version are printed by commander; bare `lily` prints its help as an error.
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    process.exit((await entry.printError())(err, argv.includes("--json")));
  }
}

/** Resolves once what was written to stdout and stderr has been handed to the system. */
function flushed(): Promise<unknown> {
  return Promise.all([process.stdout, process.stderr].map((s) => new Promise((resolve) => s.write("", resolve))));
}
