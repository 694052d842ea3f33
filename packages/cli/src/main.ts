// The `lily` command: the composition root. It maps flags onto each package's options, starts
// roles, and is the only code that prints. Errors end up here as one line and an exit code.
import { Command, CommanderError } from "commander";
import { printError } from "./output.ts";
import { oneLineUsageErrors } from "./usageError.ts";
import { registerStore } from "./commands/store.ts";
import { registerSolver } from "./commands/solver.ts";
import { registerProvider } from "./commands/provider.ts";
import { registerDevnet } from "./commands/devnet.ts";
import { registerRun } from "./commands/run.ts";
import { registerAccount } from "./commands/account.ts";
import { registerJobs } from "./commands/jobs.ts";
import { registerModules } from "./commands/modules.ts";
import { registerModule } from "./commands/module.ts";
import { registerChallenge } from "./commands/challenge.ts";
import { registerMediator } from "./commands/mediator.ts";
import { registerGateway } from "./commands/gateway.ts";
import { registerModel } from "./commands/model.ts";
import { registerKeys } from "./commands/keys.ts";
import { registerReceipt } from "./commands/receipt.ts";
import { registerFalseChallenger } from "./commands/falseChallenger.ts";

// A reader that stops early (`lily module list | head`) is not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

const program = new Command("lily")
  .description("Lily: a decentralized compute network where verification is chosen per job")
  .version("0.1.0")
  .option("--home <dir>", "where keys, data and network.json live (default: $LILY_HOME or ~/.lily)");

registerDevnet(program);
registerRun(program);
registerChallenge(program);
registerJobs(program);
registerAccount(program);
registerModules(program);
registerModule(program);
registerStore(program);
registerSolver(program);
registerProvider(program);
registerMediator(program);
registerGateway(program);
registerModel(program);
registerKeys(program);
registerReceipt(program);
registerFalseChallenger(program);
oneLineUsageErrors(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Help and the version are printed by commander; bare `lily` prints its help as an error.
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  process.exit(printError(err, process.argv.includes("--json")));
}
