// The mediator's options and defaults; the CLI (`lily mediator`) maps flags onto them.
import type { NetworkEndpoints } from "@lily/protocol";
import type { LocalAccount } from "viem";

/** How the mediator unit behaves, whatever chain, store and solver it is given. */
export interface MediatorSettings {
  /** The SQLite file of disputes seen and rulings made. */
  dbPath: string;
  /** Scratch space for re-runs. */
  workDir: string;
  /** How often the chain is scanned for new disputes. */
  pollMs: number;
  /** At most this many blocks per eth_getLogs request (public RPCs cap the range). */
  maxBlockRange: number;
  /**
   * A re-run may take this many times the module's declared timeout: a mediator on slower
   * hardware must not find an honest provider wrong merely for being faster.
   */
  rerunTimeoutFactor: number;
  /**
   * A dispute whose handling fails this many times (for any reason but an unreachable peer,
   * which is always retried) is given up as `failed`; nobody loses by it: after the mediation
   * timeout anyone can unwind the deal.
   */
  maxAttempts: number;
  /**
   * When this mediator cannot fetch a job's inputs but a provider committed a real result, it
   * has no evidence either way: it waits this long (wall clock) before fetching them again.
   */
  undecidedRetryMs: number;
  /** The interface and port of the mediator's HTTP server (health and audits); port 0 picks a free one. */
  host: string;
  port: number;
  /** Local GGUF files audits may re-run with, matched to a lease's model manifest by sha-256 (`--model`). */
  models: readonly string[];
  /** The SQLite file of audits; default: beside `dbPath`, named `<dbPath without .db>-audits.db`. */
  auditDbPath?: string;
}

export interface MediatorOptions extends MediatorSettings, NetworkEndpoints {
  /** Signs rulings; its address must be in the mediator lists of the deals it rules on. */
  account: LocalAccount;
}

export const defaultMediatorOptions = {
  pollMs: 1000,
  maxBlockRange: 5000,
  rerunTimeoutFactor: 4,
  maxAttempts: 3,
  undecidedRetryMs: 10_000,
  host: "127.0.0.1",
  port: 0,
  models: [] as readonly string[],
} satisfies Partial<MediatorOptions>;
