// Everything applying a step touches: the provider's key, its database and job cache, and its
// peers (chain, solver, store), passed in so tests can give it a real network of their own.
import type { LocalAccount } from "viem";
import type { LilyClient } from "@lily/chain";
import type { Client, SolverRoutes } from "@lily/api";
import type { Domain } from "@lily/protocol";
import type { Executor, LoadJobOptions } from "@lily/executor";
import type { Logger } from "@lily/node-kit";
import type { StoreClient } from "@lily/store";
import type { LocalDeal, LocalDealStatus, ProviderDb } from "./db.ts";
import type { JobCache } from "./jobCache.ts";
import type { Reporter } from "./report.ts";
import type { RunGate } from "./runGate.ts";
import type { ProviderStrategy } from "./strategy.ts";

export interface StepContext {
  account: LocalAccount;
  domain: Domain;
  chain: LilyClient;
  solver: Client<SolverRoutes>;
  store: StoreClient;
  executor: Executor & LoadJobOptions;
  db: ProviderDb;
  cache: JobCache;
  report: Reporter;
  strategy: ProviderStrategy;
  /** What runs now: a job runs only when it fits beside the others. */
  gate: RunGate;
  logger: Logger;
  workDir: string;
  /** Milliseconds since the epoch. */
  clock: () => number;
}

const ENDED: readonly LocalDealStatus[] = ["settled", "slashed", "failed", "unwound", "declined", "expired"];

/** Write the deal's new record; once it has ended, its kept job blocks go. */
export function save(ctx: StepContext, deal: LocalDeal): LocalDeal {
  ctx.db.put(deal);
  if (ENDED.includes(deal.status)) ctx.cache.drop(deal.id).catch((e) => ctx.logger.warn("job blocks not removed", { deal: deal.id, err: e }));
  return deal;
}

/** Send a report without letting its failure stop the step: the solver's record is informational. */
export async function bestEffort(ctx: StepContext, what: string, send: () => Promise<void>): Promise<boolean> {
  try {
    await send();
    return true;
  } catch (e) {
    ctx.logger.warn(`${what} not sent`, { err: e });
    return false;
  }
}
