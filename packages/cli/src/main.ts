// The `lily` command: the composition root. It maps flags onto each package's options, starts
// roles, and is the only code that prints. Errors end up here as one line and an exit code.
// Every command is loaded only when asked for (commands/index.ts); `lily run` also has a bundle
// of its own, from runMain.ts.
import { exitsWhenDone, registerCommands, shortLivedCommand, signsEarly } from "./commands/index.ts";
import { growYoungGenerationAtOnce } from "./shortLivedHeap.ts";
import { runCli } from "./cli.ts";

await runCli({
  async register(program, args) {
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
  },
  exitsWhenDone,
  printError: async () => (await import("./output.ts")).printError,
});
