// `lily provider`'s flags and config file mapped onto the provider's options. A flag given on the
// command line wins over the config file, which wins over the defaults; resources are what the
// machine has unless the flags or the config offer less (more is held to what was detected).
import type { Command } from "commander";
import { parseEther, type LocalAccount } from "viem";
import {
  configRates,
  defaultProviderOptions,
  machineResources,
  offeredResources,
  type Machine,
  type ProviderConfig,
  type ProviderOptions,
  type Resources,
} from "@lily/provider";
import { LilyError, address, parse, type NetworkEndpoints } from "@lily/protocol";
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
