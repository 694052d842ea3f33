// `lily provider`: run a resource provider as a process.
import { Option, type Command } from "commander";
import { formatUnits } from "viem";
import { createLogger } from "@lily/node-kit";
import { connectProvider, startProvider, detectResources, defaultProviderOptions, type ProviderOptions } from "@lily/provider";
import { LilyError, address, parse } from "@lily/protocol";
import { paths } from "../config/home.ts";
import { addNetworkFlags, resolveNetwork, roleNetwork } from "../config/resolveNetwork.ts";
import { createOutput } from "../output.ts";
import { announceReady, runUntilSignal } from "../ready.ts";
import { intOption, tokenOption } from "../flags.ts";
import { roleAccount } from "../keys.ts";
import { adversaries, adversaryKinds, type AdversaryKind } from "../devnet/adversaries.ts";

export function registerProvider(program: Command): void {
  const detected = detectResources();
  addNetworkFlags(
    program
      .command("provider")
      .description("run a resource provider: advertises capacity, signs deals, runs jobs in a WASM sandbox, commits results")
      .option("--name <name>", "role name: picks its key ($LILY_HOME/keys/<name>.json) and data folder", "provider")
      .option("--key <path>", "keystore file (created on first run)")
      .option("--price <lily>", "price per job, in LILY", "1")
      .option("--collateral <lily>", "collateral staked per deal, in LILY", "5")
      .option("--cpu <n>", "CPUs offered", String(detected.cpu))
      .option("--memory-mb <n>", "memory offered, MiB", String(Math.min(detected.memoryMb, 4096)))
      .option("--modules <cids>", "comma-separated module manifest CIDs to allow (default: every module in network.json)")
      .option("--mediators <addresses>", "comma-separated mediators this provider accepts (default: those in network.json)")
      .option("--max-job-seconds <s>", "the longest job (its timeout) this provider signs", String(defaultProviderOptions.maxJobSeconds))
      .option(
        "--max-open-delay <s>",
        "the latest openBy it signs, in seconds from now: how long it holds a signed deal's capacity",
        String(defaultProviderOptions.maxOpenDelaySeconds),
      )
      .addOption(new Option("--adversary <kind>", "misbehave on purpose, to show how the protocol catches it (devnet demos)").choices(adversaryKinds))
      .option("--poll-ms <ms>", "how often to re-read the solver when no event arrives", String(defaultProviderOptions.pollMs)),
  ).action(async (o: Record<string, string>, cmd: Command) => {
    const net = resolveNetwork(cmd);
    const account = roleAccount(net.home, o.name!, o.key);
    const modules = o.modules
      ? o.modules
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : Object.values(net.modules);
    if (modules.length === 0)
      throw new LilyError({ code: "CONFIG", field: "--modules", message: "--modules: this provider allows no module", hint: "pass --modules <cid,...>" });
    const dir = paths(net.home).data(o.name!);
    const price = tokenOption(o.price!, "--price");
    const opts: ProviderOptions = {
      ...defaultProviderOptions,
      account,
      dbPath: `${dir}/provider.db`,
      workDir: `${dir}/work`,
      ...roleNetwork(net),
      resources: { cpu: intOption(o.cpu!, "--cpu"), memoryMb: intOption(o.memoryMb!, "--memory-mb"), gpu: 0, vramMb: 0 },
      price,
      collateral: tokenOption(o.collateral!, "--collateral"),
      modules,
      mediators: o.mediators ? o.mediators.split(",").map((a, i) => parse(address, a.trim(), `--mediators[${i}]`)) : net.mediators,
      maxJobSeconds: intOption(o.maxJobSeconds!, "--max-job-seconds"),
      maxOpenDelaySeconds: intOption(o.maxOpenDelay!, "--max-open-delay"),
      pollMs: intOption(o.pollMs!, "--poll-ms"),
    };
    const strategy = o.adversary ? adversaries[o.adversary as AdversaryKind] : undefined;
    const provider = await startProvider(opts, { ...connectProvider(opts), logger: createLogger({ module: o.name! }), ...(strategy && { strategy }) });
    const out = createOutput();
    out.line(`${o.name} offers ${o.cpu} CPU, ${o.memoryMb} MiB at ${formatUnits(price, 18)} LILY per job`);
    announceReady(out, { role: o.name!, address: provider.address });
    await runUntilSignal(() => provider.close());
  });
}
