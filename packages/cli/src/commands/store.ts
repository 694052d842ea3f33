// `lily store`: run the content-addressed store as a process.
import type { Command } from "commander";
import { startStore, defaultStoreOptions } from "@lily/store";
import { createLogger } from "@lily/node-kit";
import { lilyHome, paths } from "../config/home.ts";
import { createOutput } from "../output.ts";
import { announceReady, runUntilSignal } from "../ready.ts";
import { intOption } from "../flags.ts";

export function registerStore(program: Command): void {
  program
    .command("store")
    .description("run a content-addressed store (CIDv1 blocks on disk, served over HTTP)")
    .option("--data-dir <dir>", "where blocks are kept (default: $LILY_HOME/data/store)")
    .option("--host <host>", "interface to listen on", defaultStoreOptions.host)
    .option("--port <port>", "port to listen on (0 = any free port)", "7101")
    .action(async (o: { dataDir?: string; host: string; port: string }, cmd: Command) => {
      const home = lilyHome(cmd.optsWithGlobals().home);
      const out = createOutput();
      const store = await startStore(
        { ...defaultStoreOptions, dataDir: o.dataDir ?? paths(home).data("store"), host: o.host, port: intOption(o.port, "--port") },
        { logger: createLogger({ module: "store" }) },
      );
      announceReady(out, { role: "store", url: store.url });
      await runUntilSignal(() => store.close());
    });
}
