// `lily run` alone: the entry of the run bundle (dist/run.js, scripts/bundle.ts), which bin/lily.js
// starts for `lily run` instead of the main one. Its modules are imported here, not loaded when
// asked for as in main.ts, so the bundler keeps only what run uses: the main bundle's chunks are
// shared between commands, and run's also held code only others use. Help, usage errors and exit
// codes are the same as from main.ts (cli.ts).
import "./runFirst.ts";
import { registerRun } from "./commands/run.ts";
import { printError } from "./output.ts";
import { runCli } from "./cli.ts";

await runCli({
  register: async (program) => registerRun(program),
  // What commands/index.ts says of `run`; importing that table here would bring every command's
  // module into this bundle.
  exitsWhenDone: () => true,
  printError: async () => printError,
});
