// The resource provider's options and defaults; the CLI maps flags onto them.
import type { NetworkEndpoints } from "@lily/protocol";
import type { Address, LocalAccount } from "viem";
import type { ModuleTerms } from "./pricing.ts";
import type { Resources } from "./resources.ts";
import type { ModelSpec } from "./leases/loadModel.ts";
import type { LeaseServiceOptions } from "./leases/startLeaseService.ts";

export interface ProviderOptions extends NetworkEndpoints {
  /**
   * Every solver it offers its capacity to and takes proposals from (default: `solverUrl` alone).
   * Its free capacity is checked before each signature, whichever solver proposed the deal.
   * Model offers (inference leases) go to `solverUrl` only.
   */
  solverUrls?: string[];
  /** Signs offers, deals, reports and results; must be the chain client's account. */
  account: LocalAccount;
  dbPath: string;
  /** Scratch space for job inputs and outputs, and the cache of what each signed job needs. */
  workDir: string;
  /** Everything this provider offers; the deals it signed and has not finished hold part of it. */
  resources: Resources;
  /** Price per job (for every module without a price of its own) and collateral staked per deal, in token base units. */
  price: bigint;
  collateral: bigint;
  /** Module manifest CIDs this provider agrees to run, less what `moduleTerms` refuses. */
  modules: string[];
  /** Also offer every module published in the registry, followed as it grows (terms and lists still apply). */
  followRegistry?: boolean;
  /**
   * Prices per module or per resource-second, an allow-list and a deny-list, networked container
   * modules (pricing.ts). Absent: every module in `modules` at `price`, networked ones refused.
   */
  moduleTerms?: Omit<ModuleTerms, "price" | "executors">;
  /** At most this many jobs signed and not yet finished at once, whatever capacity is left. */
  maxConcurrentJobs?: number;
  /** Serve /metrics (Prometheus text) and /status (JSON) on this port, 0 for any free one; absent: no server. */
  metricsPort?: number;
  /** The address the metrics server listens on (default: loopback only). */
  metricsHost?: string;
  mediators: Address[];
  /** A resource offer is re-signed and re-posted once half of this has passed. */
  offerTtlSeconds: number;
  /**
   * The latest `openBy` it signs, in seconds from now: it holds the job's capacity until then
   * and follows the deal on chain until then, so this bounds what a silent job creator costs it.
   */
  maxOpenDelaySeconds: number;
  /** The longest job (its `timeoutSeconds`) it signs: collateral is locked for that long. */
  maxJobSeconds: number;
  /** How often it re-reads the solver and the chain when no event arrives. */
  pollMs: number;
  /**
   * Models it serves to gateways under inference leases (Anura), each with its prices and
   * collateral. None (the default): no lease API is started and nothing else changes.
   */
  models?: ModelSpec[];
  /** Where the lease API listens and the leases it takes (mediators, openBy delay and poll are the ones above). */
  leaseService?: Partial<Pick<LeaseServiceOptions, "host" | "port" | "publicUrl" | "maxLeaseSeconds" | "creditAnswers">>;
}

export const defaultProviderOptions = {
  offerTtlSeconds: 3600,
  maxOpenDelaySeconds: 600,
  maxJobSeconds: 3600,
  pollMs: 1000,
  mediators: [] as Address[],
  metricsHost: "127.0.0.1",
};
