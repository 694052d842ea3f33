// Which modules a provider offers and at what price, as a pure function of the modules it knows
// (their manifests) and its terms: an allow-list and a deny-list (deny wins), whether networked
// container modules may run, the executors it has, and prices per module or per resource-second.
// A resource offer carries one price, so the plan is one offer per distinct price, each with the
// provider's whole capacity: what its deals hold is counted across all of them (capacity.ts), so
// several offers never let it sign more than it has.
//
// A module's price, most specific first: its own entry in `prices` (by manifest CID, then
// name@version, then name); else, when `rates` are set, its resource-seconds:
//   timeoutSeconds × (cpu × cpuSecond + memoryMb / 1024 × memoryGbSecond + gpu × gpuSecond)
// from its manifest, in wei, rounded up; else the default `price`.
import { MAX_MODULES, type ExecutorKind, type ModuleManifest } from "@lily/protocol";

/** What pricing and the lists need to know of a module, from its manifest. */
export interface ModuleInfo {
  /** The manifest's CID: what offers and jobs name. */
  cid: string;
  name: string;
  version: string;
  executor: ExecutorKind;
  /** A container module that asks for the network. */
  network: boolean;
  resources: { cpu: number; memoryMb: number; gpu: number; timeoutSeconds: number };
}

export function moduleInfo(cid: string, m: ModuleManifest): ModuleInfo {
  const { cpu, memoryMb, gpu, timeoutSeconds } = m.resources;
  return {
    cid,
    name: m.name,
    version: m.version,
    executor: m.executor.kind,
    network: m.executor.kind === "docker" && m.executor.network,
    resources: { cpu, memoryMb, gpu, timeoutSeconds },
  };
}

/** Wei per second of one CPU, of one GiB of memory, of one GPU. */
export interface ResourceRates {
  cpuSecond: bigint;
  memoryGbSecond: bigint;
  gpuSecond: bigint;
}

/** Module selectors are a manifest CID, `name@version` or `name` (every version). */
export interface ModuleTerms {
  /** Price per job (wei) of a module with no other price. */
  price: bigint;
  /** Selector -> price per job, wei. */
  prices?: Readonly<Record<string, bigint>>;
  /** Price modules without their own entry by their resource-seconds. */
  rates?: ResourceRates;
  /** Only modules some selector here names (absent: every module known). */
  allow?: readonly string[];
  /** Never modules a selector here names, even if allowed. */
  deny?: readonly string[];
  /** Whether container modules that ask for the network may run (default: no). */
  allowNetwork?: boolean;
  /** The executors this provider has (absent: every kind). */
  executors?: readonly ExecutorKind[];
}

/** One resource offer's share of the plan: a price and the modules (manifest CIDs, sorted) it allows. */
export interface OfferGroup {
  price: bigint;
  modules: string[];
}

export interface PricedModule {
  module: ModuleInfo;
  price: bigint;
  /** Where the price came from: a `prices` entry (its selector), the rates, or the default. */
  from: { kind: "selector"; selector: string } | { kind: "rates" } | { kind: "default" };
}

export interface OfferPlan {
  groups: OfferGroup[];
  offered: PricedModule[];
  refused: { module: ModuleInfo; why: string }[];
  /** Selectors in the terms that name no module known: a typo, or a module not published yet. */
  unmatched: string[];
}

/** How specifically `selector` names `m`: 3 by CID, 2 by name@version, 1 by name, 0 not at all. */
export function selects(selector: string, m: Pick<ModuleInfo, "cid" | "name" | "version">): number {
  if (selector === m.cid) return 3;
  if (selector === `${m.name}@${m.version}`) return 2;
  return selector === m.name ? 1 : 0;
}

/** timeout × (cpu × cpuSecond + memoryMb/1024 × memoryGbSecond + gpu × gpuSecond), rounded up to the wei. */
export function resourcePrice(r: ModuleInfo["resources"], rates: ResourceRates): bigint {
  const t = BigInt(r.timeoutSeconds);
  const memory = t * BigInt(r.memoryMb) * rates.memoryGbSecond;
  return t * BigInt(r.cpu) * rates.cpuSecond + (memory + 1023n) / 1024n + t * BigInt(r.gpu) * rates.gpuSecond;
}

export function planOffers(modules: readonly ModuleInfo[], terms: ModuleTerms): OfferPlan {
  const offered: PricedModule[] = [];
  const refused: OfferPlan["refused"] = [];
  const seen = new Set<string>();
  for (const m of modules) {
    if (seen.has(m.cid)) continue;
    seen.add(m.cid);
    const why = refusal(m, terms);
    if (why) refused.push({ module: m, why });
    else offered.push(priced(m, terms));
  }
  const byPrice = new Map<bigint, string[]>();
  for (const p of offered) byPrice.set(p.price, [...(byPrice.get(p.price) ?? []), p.module.cid]);
  const groups: OfferGroup[] = [];
  // Lowest price first; an offer holds at most MAX_MODULES modules, so a long list is split.
  for (const [price, cids] of [...byPrice].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const sorted = [...cids].sort();
    for (let i = 0; i < sorted.length; i += MAX_MODULES) groups.push({ price, modules: sorted.slice(i, i + MAX_MODULES) });
  }
  const selectors = [...(terms.allow ?? []), ...(terms.deny ?? []), ...Object.keys(terms.prices ?? {})];
  const unmatched = [...new Set(selectors)].filter((s) => !modules.some((m) => selects(s, m) > 0));
  return { groups, offered, refused, unmatched };
}

function refusal(m: ModuleInfo, terms: ModuleTerms): string | undefined {
  const ref = `${m.name}@${m.version}`;
  const deny = terms.deny?.find((s) => selects(s, m) > 0);
  if (deny !== undefined) return `${ref} is denied (${deny})`;
  if (terms.allow && !terms.allow.some((s) => selects(s, m) > 0)) return `${ref} is not in the allow-list`;
  if (terms.executors && !terms.executors.includes(m.executor)) return `${ref} needs the ${m.executor} executor, which this provider does not have`;
  if (m.network && !terms.allowNetwork) return `${ref} asks for the network, and this provider does not allow networked modules`;
  return undefined;
}

function priced(m: ModuleInfo, terms: ModuleTerms): PricedModule {
  let best: { selector: string; rank: number } | undefined;
  for (const selector of Object.keys(terms.prices ?? {})) {
    const rank = selects(selector, m);
    if (rank > (best?.rank ?? 0)) best = { selector, rank };
  }
  if (best) return { module: m, price: terms.prices![best.selector]!, from: { kind: "selector", selector: best.selector } };
  if (terms.rates) return { module: m, price: resourcePrice(m.resources, terms.rates), from: { kind: "rates" } };
  return { module: m, price: terms.price, from: { kind: "default" } };
}
