// `lily provider`'s flags and config file mapped onto the provider's options. A flag given on the
// command line wins over the config file, which wins over the defaults; resources are what the
// machine has unless the flags or the config offer less (more is held to what was detected).
import { existsSync } from "node:fs";
import { basename, resolve as resolvePath } from "node:path";
import type { Command } from "commander";
import { parseEther, zeroAddress, type LocalAccount } from "viem";
import type { LilyClient } from "@lily/chain";
import { resolveModel } from "@lily/sdk";
import type { StoreClient } from "@lily/store";
import {
  configRates,
  defaultProviderOptions,
  machineResources,
  offeredResources,
  type Machine,
  type ProviderConfig,
  type ProviderOptions,
  type ModelSource,
  type ModelSpec,
  type Resources,
} from "@lily/provider";
import { LilyError, address, parse, royaltyTermsOf, type NetworkEndpoints } from "@lily/protocol";
import { describeModel } from "../model/modelManifest.ts";
import { intOption, tokenOption } from "../flags.ts";

/** The raw flag values of `lily provider` (strings as commander gives them). */
export interface ProviderFlags {
  config?: string;
  docker?: string;
  maxImageMb: string;
  price: string;
  collateral: string;
  cpu?: string;
  memoryMb?: string;
  gpu?: string;
  vramMb?: string;
  modules?: string;
  mediators?: string;
  maxJobSeconds?: string;
  maxOpenDelay?: string;
  maxConcurrentJobs?: string;
  allowNetwork?: boolean;
  metrics: boolean;
  metricsPort: string;
  metricsHost: string;
  pollMs: string;
}

export interface ProviderSetup {
  opts: ProviderOptions;
  /** Dimensions asked above what the machine has, held to it. */
  capped: { resource: keyof Resources; asked: number; detected: number }[];
}

/** `config`: the parsed --config file (readProviderConfig), read first so a bad one fails before anything starts. */
export function providerOptionsFrom(
  o: ProviderFlags,
  config: ProviderConfig,
  cmd: Command,
  base: {
    account: LocalAccount;
    dbPath: string;
    workDir: string;
    network: NetworkEndpoints;
    modules: Record<string, string>;
    mediators: ProviderOptions["mediators"];
  },
  machine: Machine,
): ProviderSetup {
  // A flag typed on the command line (or set in the environment) wins; its default does not.
  const given = (key: string) => ["cli", "env"].includes(cmd.getOptionValueSource(key) ?? "");
  const int = (key: keyof ProviderFlags, flag: string, fromConfig: number | undefined) => (given(key) ? intOption(o[key] as string, flag) : fromConfig);

  const asked: Partial<Resources> = {};
  const cpu = int("cpu", "--cpu", config.resources?.cpu);
  const memoryMb = int("memoryMb", "--memory-mb", config.resources?.memoryMb);
  const gpu = int("gpu", "--gpu", config.resources?.gpu);
  const vramMb = int("vramMb", "--vram-mb", config.resources?.vramMb);
  if (cpu !== undefined) asked.cpu = cpu;
  if (memoryMb !== undefined) asked.memoryMb = memoryMb;
  if (gpu !== undefined) asked.gpu = gpu;
  if (vramMb !== undefined) asked.vramMb = vramMb;
  const detected = machineResources(machine);
  const { resources, capped } = offeredResources(detected, asked);

  const modules = o.modules
    ? o.modules
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : Object.values(base.modules);
  // Without --modules it allows what the network publishes, followed in the registry as it grows.
  const followRegistry = !o.modules;
  if (modules.length === 0 && !followRegistry && !config.modules?.allow?.length)
    throw new LilyError({ code: "CONFIG", field: "--modules", message: "--modules: this provider allows no module", hint: "pass --modules <cid,...>" });

  const maxConcurrentJobs = int("maxConcurrentJobs", "--max-concurrent-jobs", config.maxConcurrentJobs);
  if (maxConcurrentJobs === 0)
    throw new LilyError({ code: "INVALID_INPUT", field: "--max-concurrent-jobs", message: "--max-concurrent-jobs: must be at least 1" });
  const rates = configRates(config);
  const opts: ProviderOptions = {
    ...defaultProviderOptions,
    account: base.account,
    dbPath: base.dbPath,
    workDir: base.workDir,
    ...base.network,
    resources,
    price: given("price") ? tokenOption(o.price, "--price") : (config.price ?? parseEther(o.price)),
    collateral: given("collateral") ? tokenOption(o.collateral, "--collateral") : (config.collateral ?? parseEther(o.collateral)),
    modules,
    followRegistry,
    moduleTerms: {
      ...(config.prices && { prices: config.prices }),
      ...(rates && { rates }),
      ...(config.modules?.allow && { allow: config.modules.allow }),
      ...(config.modules?.deny && { deny: config.modules.deny }),
      allowNetwork: o.allowNetwork ?? config.allowNetwork ?? false,
    },
    ...(maxConcurrentJobs !== undefined && { maxConcurrentJobs }),
    mediators: o.mediators ? o.mediators.split(",").map((a, i) => parse(address, a.trim(), `--mediators[${i}]`)) : (config.mediators ?? base.mediators),
    maxJobSeconds: int("maxJobSeconds", "--max-job-seconds", config.maxJobSeconds) ?? defaultProviderOptions.maxJobSeconds,
    maxOpenDelaySeconds: int("maxOpenDelay", "--max-open-delay", config.maxOpenDelaySeconds) ?? defaultProviderOptions.maxOpenDelaySeconds,
    pollMs: intOption(o.pollMs, "--poll-ms"),
    ...(o.metrics && { metricsPort: intOption(o.metricsPort, "--metrics-port"), metricsHost: o.metricsHost }),
  };
  return { opts, capped: capped.map((k) => ({ resource: k, asked: asked[k]!, detected: detected[k] })) };
}

/** The model flags of `lily provider` (Anura): what it serves under inference leases. */
export interface ModelFlags {
  /** `<path.gguf>`, `<name@version>` (or a manifest CID), or `<name@version>=<path.gguf>` (registered, weights already here). */
  model: string[];
  /** `<name@version>=<baseUrl>`: forward to an OpenAI-compatible server that serves it under its manifest name. */
  modelServer: string[];
  modelPriceIn?: string;
  modelPriceOut?: string;
  leaseCollateral: string;
  leasePort: string;
  leaseHost: string;
  leaseUrl?: string;
  maxLeaseSeconds?: string;
}

/**
 * The models named by --model and --model-server, each resolved to its manifest: a registered one
 * through the registry and the store (its weights fetched by CID and checked when the provider
 * starts), a local GGUF file described as `lily model add` would (unregistered: its manifest is
 * put in the store so gateways can read it by CID).
 */
export async function modelSpecsFrom(o: ModelFlags, peers: { chain: LilyClient; store: StoreClient }): Promise<ModelSpec[]> {
  const prices = {
    ...(o.modelPriceIn !== undefined && { inputPricePer1k: tokenOption(o.modelPriceIn, "--model-price-in") }),
    ...(o.modelPriceOut !== undefined && { outputPricePer1k: tokenOption(o.modelPriceOut, "--model-price-out") }),
  };
  const collateral = tokenOption(o.leaseCollateral, "--lease-collateral");
  const registered = async (ref: string, source: ModelSource, flag: string): Promise<ModelSpec> => {
    let resolved: Awaited<ReturnType<typeof resolveModel>>;
    try {
      resolved = await resolveModel(ref, peers);
    } catch (e) {
      if (e instanceof LilyError && e.code === "UNKNOWN_MODULE") throw new LilyError({ code: "UNKNOWN_MODULE", field: flag, message: `${flag}: ${e.message}` });
      throw e;
    }
    const m = resolved.manifest;
    return {
      label: resolved.entry ? `${m.name}@${m.version}` : resolved.cid,
      cid: resolved.cid,
      manifest: m,
      royalty: resolved.entry ? royaltyTermsOf(resolved.entry) : { moduleCreator: zeroAddress, royaltyBps: 0 },
      source,
      collateral,
      ...prices,
    };
  };
  const specs: ModelSpec[] = [];
  for (const arg of o.model) {
    const eq = arg.indexOf("=");
    if (eq > 0) {
      specs.push(await registered(arg.slice(0, eq), { kind: "file", path: resolvePath(arg.slice(eq + 1)) }, "--model"));
    } else if (arg.endsWith(".gguf")) {
      const path = resolvePath(arg);
      if (!existsSync(path)) throw new LilyError({ code: "INVALID_INPUT", field: "--model", message: `--model: no file ${path}` });
      const name =
        basename(path, ".gguf")
          .toLowerCase()
          .replace(/[^a-z0-9-]+/g, "-")
          .replace(/^[^a-z]+/, "") || "model";
      const described = await describeModel({ path, name: name.slice(0, 64), version: "1.0.0", inputPer1k: 10n ** 14n, outputPer1k: 2n * 10n ** 14n });
      await peers.store.putRecordBytes(described.manifestBytes);
      specs.push({
        label: `${path} (${described.manifestCid})`,
        cid: described.manifestCid,
        manifest: described.manifest,
        royalty: { moduleCreator: zeroAddress, royaltyBps: 0 },
        source: { kind: "file", path },
        collateral,
        ...prices,
      });
    } else specs.push(await registered(arg, { kind: "store" }, "--model"));
  }
  for (const arg of o.modelServer) {
    const eq = arg.indexOf("=");
    if (eq <= 0)
      throw new LilyError({ code: "INVALID_INPUT", field: "--model-server", message: `--model-server: expected <name@version>=<baseUrl>, got ${arg}` });
    specs.push(await registered(arg.slice(0, eq), { kind: "server", baseUrl: arg.slice(eq + 1) }, "--model-server"));
  }
  return specs;
}

/** Where the lease API listens and the leases it takes, from the flags. */
export function leaseServiceFrom(o: ModelFlags): NonNullable<ProviderOptions["leaseService"]> {
  return {
    host: o.leaseHost,
    port: intOption(o.leasePort, "--lease-port"),
    ...(o.leaseUrl && { publicUrl: o.leaseUrl }),
    ...(o.maxLeaseSeconds && { maxLeaseSeconds: intOption(o.maxLeaseSeconds, "--max-lease-seconds") }),
  };
}
