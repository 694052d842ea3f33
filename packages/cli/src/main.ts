// The `lily` command: the composition root. It maps flags onto each package's options, starts
// roles, and is the only code that prints. Errors end up here as one line and an exit code.
import { Command, CommanderError } from "commander";
import { oneLineUsageErrors } from "./usageError.ts";
import { registerCommands, shortLivedCommand } from "./commands/index.ts";
import { growYoungGenerationAtOnce } from "./shortLivedHeap.ts";

// A reader that stops early (`lily module list | head`) is not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

const program = new Command("lily")
  .description("Lily: a decentralized compute network where verification is chosen per job")
  .version("0.1.0")
  .option("--home <dir>", "where keys, data and network.json live (default: $LILY_HOME or ~/.lily)");

const args = process.argv.slice(2);
// Before the command's modules load: they are most of what its heap ever holds.
if (shortLivedCommand(args)) growYoungGenerationAtOnce();
// Only the command asked for is loaded (see commands/index.ts).
await registerCommands(program, args);
oneLineUsageErrors(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Help and the version are printed by commander; bare `lily` prints its help as an error.
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  // Loaded only now: printing an error needs the protocol's wire format, help does not.
  const { printError } = await import("./output.ts");
  process.exit(printError(err, process.argv.includes("--json")));
}
