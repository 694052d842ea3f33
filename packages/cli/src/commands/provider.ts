// `lily provider`: run a resource provider as a process; `lily provider status` reads one.
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Option, type Command } from "commander";
import { connectExecutors } from "@lily/executor";
import { createLogger } from "@lily/node-kit";
import { connectProvider, defaultLeaseServiceOptions, defaultProviderOptions, detectMachine, readProviderConfig, startProvider } from "@lily/provider";
import { formatLily } from "@lily/protocol";
import { devnetDockerHome, paths } from "../config/home.ts";
import { addNetworkFlags, resolveNetwork, roleNetwork } from "../config/resolveNetwork.ts";
import { createOutput } from "../output.ts";
import { announceReady, runUntilSignal } from "../ready.ts";
import { roleAccount } from "../keys.ts";
import { intOption, urlOption } from "../flags.ts";
import { adversaries, adversaryKinds, type AdversaryKind } from "../devnet/adversaries.ts";
import { leaseServiceFrom, modelSpecsFrom, providerOptionsFrom, type ModelFlags, type ProviderFlags } from "./providerOptions.ts";
import { ENDPOINT_FILE, registerProviderStatus } from "./providerStatus.ts";

/** Commander's way to take a flag many times. */
const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerProvider(program: Command): void {
  const provider = addNetworkFlags(
    program
      .command("provider")
      .description("run a resource provider: advertises capacity and prices, signs deals, runs jobs in a sandbox, commits results")
      .option("--name <name>", "role name: picks its key ($LILY_HOME/keys/<name>.json) and data folder", "provider")
      .option("--key <path>", "keystore file (created on first run)")
      .option("--config <file>", "provider config (JSON): prices per module or per resource-second, allow/deny lists, limits; flags win over it")
      .option("--price <lily>", "price per job, in LILY, for modules without a price of their own", "1")
      .option("--collateral <lily>", "collateral staked per deal, in LILY", "5")
      .option("--cpu <n>", "CPUs offered (default: all detected; never more)")
      .option("--memory-mb <n>", "memory offered, MiB (default: all detected; never more)")
      .option("--gpu <n>", "GPUs offered (default: all nvidia-smi reports)")
      .option("--vram-mb <n>", "GPU memory offered, MiB (default: the detected GPUs' total)")
      .option("--modules <cids>", "comma-separated module manifest CIDs to allow (default: every module published in the registry, as it grows)")
      .option("--mediators <addresses>", "comma-separated mediators this provider accepts (default: those in network.json)")
      .option("--max-job-seconds <s>", `the longest job (its timeout) this provider signs (default: ${defaultProviderOptions.maxJobSeconds})`)
      .option(
        "--max-open-delay <s>",
        `the latest openBy it signs, in seconds from now: how long it holds a signed deal's capacity (default: ${defaultProviderOptions.maxOpenDelaySeconds})`,
      )
      .option("--max-concurrent-jobs <n>", "at most this many jobs at once, whatever capacity is left (default: capacity alone decides)")
      .option("--allow-network", "run container modules that ask for the network (default: refused)")
      .option("--max-image-mb <n>", "the largest container image archive it fetches, MiB (anyone can publish a module)", "4096")
      .option(
        "--docker <host>",
        "the Docker engine for container modules: auto (DOCKER_HOST, else the standard socket, else the devnet's), off, or a DOCKER_HOST value",
        "auto",
      )
      .option("--metrics-port <port>", "serve /metrics (Prometheus) and /status here; 0 picks a free port, printed at start", "0")
      .option("--metrics-host <host>", "address the metrics server listens on", defaultProviderOptions.metricsHost)
      .option("--no-metrics", "serve no /metrics or /status")
      .addOption(new Option("--adversary <kind>", "misbehave on purpose, to show how the protocol catches it (devnet demos)").choices(adversaryKinds))
      .option("--poll-ms <ms>", "how often to re-read the solver when no event arrives", String(defaultProviderOptions.pollMs))
      .option(
        "--also-solver <url>",
        "another solver to offer capacity to and take deals from, besides --solver-url (repeatable); free capacity is checked before each signature, whoever proposed",
        collect,
        [],
      )
      .option(
        "--model <ref>",
        "serve a model to gateways under inference leases: <path.gguf>, <name@version> (weights fetched from the store), or <name@version>=<path.gguf>; repeatable",
        collect,
        [],
      )
      .option(
        "--model-server <ref=url>",
        "serve <name@version> by forwarding to an OpenAI-compatible server at <url> (Ollama, vLLM, `lily model serve`); repeatable",
        collect,
        [],
      )
      .option("--model-price-in <lily>", "price per 1,000 prompt tokens (default: the model manifest's suggested price)")
      .option("--model-price-out <lily>", "price per 1,000 generated tokens (default: the model manifest's suggested price)")
      .option("--lease-collateral <lily>", "collateral staked per lease, from the provider's LilyLeases deposit", "1")
      .option("--lease-port <port>", "port of the lease API gateways call (0 = any free port)", "0")
      .option("--lease-host <host>", "address the lease API listens on", defaultLeaseServiceOptions.host)
      .option("--lease-url <url>", "the lease API's URL as gateways reach it, put in model offers (default: the listening URL)")
      .option("--max-lease-seconds <s>", `the longest lease it serves (default: ${defaultLeaseServiceOptions.maxLeaseSeconds})`),
  );
  provider.action(async (o: ProviderFlags & ModelFlags & { name: string; key?: string; adversary?: string; alsoSolver: string[] }, cmd: Command) => {
    const config = o.config ? readProviderConfig(o.config) : {};
    const net = resolveNetwork(cmd);
    const account = roleAccount(net.home, o.name, o.key);
    const dir = paths(net.home).data(o.name);
    const workDir = `${dir}/work`;
    const machine = await detectMachine({ workDir });
    const { opts, capped } = providerOptionsFrom(
      o,
      config,
      cmd,
      { account, dbPath: `${dir}/provider.db`, workDir, network: roleNetwork(net), modules: net.modules, mediators: net.mediators },
      machine,
    );
    if (o.alsoSolver.length > 0) opts.solverUrls = [opts.solverUrl, ...o.alsoSolver.map((u, i) => urlOption(u, `--also-solver[${i}]`))];
    const out = createOutput();
    const peers = connectProvider(opts);
    if (o.model.length > 0 || o.modelServer.length > 0) {
      // The models are resolved through the chain's registry: a node away at start-up is waited for.
      const { untilChainAnswers } = await import("@lily/chain");
      opts.models = await untilChainAnswers(() => modelSpecsFrom(o, { chain: peers.chain, store: peers.store }));
      opts.leaseService = leaseServiceFrom(o);
    }
    if (machine.gpuError) out.line(`note: no GPU offered: ${machine.gpuError}`);
    for (const c of capped) out.line(`note: ${c.resource} ${c.asked} asked, but this machine has ${c.detected}: offering ${c.detected}`);
    const strategy = o.adversary ? adversaries[o.adversary as AdversaryKind] : undefined;
    const { executors, dockerUnavailable } = await connectExecutors({
      docker: o.docker,
      dockerHome: devnetDockerHome(net.home),
      allowNetwork: opts.moduleTerms?.allowNetwork ?? false,
      cacheDir: join(workDir, "images"),
      maxArchiveBytes: intOption(o.maxImageMb, "--max-image-mb") * 1024 * 1024,
      // nvidia-smi has already been asked (detectMachine): containers get the GPUs this provider offers.
      gpus: opts.resources.gpu,
    });
    if (dockerUnavailable) out.line(`note: container modules not offered: ${dockerUnavailable}`);
    const running = await startProvider(opts, {
      ...peers,
      executor: executors,
      logger: createLogger({ module: o.name }),
      ...(strategy && { strategy }),
    });
    const r = opts.resources;
    out.line(
      `${o.name} offers ${r.cpu} CPU, ${r.memoryMb} MiB, ${r.gpu} GPU (${r.vramMb} MiB VRAM); ${Math.floor(machine.diskFreeBytes / 2 ** 20)} MiB free disk`,
    );
    for (const g of running.plan?.groups ?? []) out.line(`  ${g.modules.length} module${g.modules.length === 1 ? "" : "s"} at ${formatLily(g.price)} per job`);
    for (const x of running.plan?.refused ?? []) out.line(`  not offered: ${x.why}`);
    for (const m of running.models)
      out.line(
        `  model ${m.label} at ${formatLily(m.inputPricePer1k)} in / ${formatLily(m.outputPricePer1k)} out per 1k tokens, ${formatLily(m.collateral)} collateral per lease`,
      );
    if (running.leaseUrl) out.line(`lease API on ${running.leaseUrl}`);
    const endpoint = join(dir, ENDPOINT_FILE);
    if (running.metricsUrl) {
      out.line(`metrics on ${running.metricsUrl}/metrics, status on ${running.metricsUrl}/status`);
      // How `lily provider status` finds this process.
      writeFileSync(endpoint, `${JSON.stringify({ url: running.metricsUrl, pid: process.pid })}\n`);
    }
    announceReady(out, { role: o.name, address: running.address, ...(running.metricsUrl && { url: running.metricsUrl }) });
    await runUntilSignal(async () => {
      if (existsSync(endpoint)) rmSync(endpoint);
      await running.close();
    });
  });
  registerProviderStatus(provider);
}
