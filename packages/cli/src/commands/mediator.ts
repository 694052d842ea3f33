// `lily mediator`: run a mediator as a process. It watches the chain for disputes on deals whose
// parties both accepted it (and to which it is not a party), and when the turn is its own locks
// the draw, re-runs the job and rules. It also serves audits of lease answers over HTTP: a
// gateway sends a sampled answer, the mediator re-runs it on its copy of the model (a `--model`
// file, or the weights fetched from the store) and slashes a provider whose answer was wrong.
import type { Command } from "commander";
import { createLogger } from "@lily/node-kit";
import { connectExecutors } from "@lily/executor";
import { startMediator, defaultMediatorOptions } from "@lily/mediator";
import { devnetDockerHome, paths } from "../config/home.ts";
import { addNetworkFlags, resolveNetwork, roleNetwork } from "../config/resolveNetwork.ts";
import { createOutput } from "../output.ts";
import { announceReady, runUntilSignal } from "../ready.ts";
import { intOption } from "../flags.ts";
import { roleAccount } from "../keys.ts";

export function registerMediator(program: Command): void {
  addNetworkFlags(
    program
      .command("mediator")
      .description("run a mediator: re-runs disputed jobs in the same sandbox and rules on chain")
      .option("--name <name>", "role name: picks its key ($LILY_HOME/keys/<name>.json) and data folder", "mediator")
      .option("--key <path>", "keystore file (created on first run)")
      .option("--poll-ms <ms>", "how often the chain is scanned for disputes", String(defaultMediatorOptions.pollMs))
      .option("--docker <host>", "the Docker engine to re-run container modules on: auto, off, or a DOCKER_HOST value", "auto")
      .option("--host <host>", "interface the audit API listens on", defaultMediatorOptions.host)
      .option("--port <port>", "port of the audit API (0 = any free port)", String(defaultMediatorOptions.port))
      .option(
        "--model <path.gguf>",
        "a local GGUF file to audit with (repeatable); matched to a lease's model manifest by sha-256, else the weights are fetched from the store",
        (v: string, prev: string[]) => [...prev, v],
        [] as string[],
      ),
  ).action(async (o: Record<string, string> & { model: string[] }, cmd: Command) => {
    const net = resolveNetwork(cmd);
    const account = roleAccount(net.home, o.name!, o.key);
    const dir = paths(net.home).data(o.name!);
    const mediator = await startMediator(
      {
        ...defaultMediatorOptions,
        account,
        dbPath: `${dir}/mediator.db`,
        workDir: `${dir}/work`,
        ...roleNetwork(net),
        pollMs: intOption(o.pollMs!, "--poll-ms"),
        host: o.host!,
        port: intOption(o.port!, "--port"),
        models: o.model,
      },
      {
        logger: createLogger({ module: o.name! }),
        // A mediator re-runs what providers ran: containers too, on the same kind of engine.
        executor: (await connectExecutors({ docker: o.docker, dockerHome: devnetDockerHome(net.home), cacheDir: `${dir}/work/images` })).executors,
      },
    );
    announceReady(createOutput(), { role: o.name!, url: mediator.url, address: mediator.address });
    await runUntilSignal(() => mediator.close());
  });
}
