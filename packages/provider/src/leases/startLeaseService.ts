// The provider's lease service (Anura's provider side): the lease API server, the model offers it
// keeps posted to the solver, and the settlement loop that closes every lease on chain with its
// latest voucher and takes the collateral back after the audit window. Started by startProvider
// when the provider serves models; a provider with none starts nothing of it.
import type { Address, Hex, LocalAccount } from "viem";
import { untilChainAnswers } from "@lily/chain";
import type { Domain } from "@lily/protocol";
import { reliedBlocksTable, type Database, type Logger } from "@lily/node-kit";
import { LeaseBook, type LocalLease } from "./leaseBook.ts";
import type { LeaseChain } from "./leaseChain.ts";
import { seconds, type LeaseContext } from "./leaseContext.ts";
import { startLeaseServer } from "./leaseServer.ts";
import { createModelOfferKeeper, type PostModelOffer } from "./modelOffers.ts";
import type { ServedModel } from "./servedModel.ts";
import { settleLeases, type Windows } from "./settleLeases.ts";

export interface LeaseServiceOptions {
  /** Where the lease API listens (port 0: any free port). */
  host: string;
  port: number;
  /** The URL gateways reach it at, put in model offers; default the listening URL. */
  publicUrl?: string;
  /** Mediators a lease may name (or none). */
  mediators: readonly Address[];
  /** The latest openBy it countersigns, in seconds from now. */
  maxOpenDelaySeconds: number;
  /** The longest lease it serves, in seconds from now to expiresAt. */
  maxLeaseSeconds: number;
  /** How many worst-case answers a payer may leave unpaid before requests are refused. */
  creditAnswers: number;
  /** Model offers are signed for this long and re-signed half-way. */
  offerTtlSeconds: number;
  /** How often leases are looked at for settlement and offers for refresh. */
  pollMs: number;
}

export const defaultLeaseServiceOptions = {
  host: "127.0.0.1",
  port: 0,
  maxLeaseSeconds: 86_400,
  creditAnswers: 2,
  offerTtlSeconds: 3600,
} satisfies Partial<LeaseServiceOptions>;

export interface LeaseServiceDeps {
  account: LocalAccount;
  /** The LilyLeases domain. */
  domain: Domain;
  /** The provider's SQLite (ProviderDb.database): the lease book's tables are among its migrations. */
  db: Database;
  chain: LeaseChain;
  models: readonly ServedModel[];
  /** Posts model offers to the solver; absent: none are posted. */
  postOffer?: PostModelOffer;
  logger: Logger;
  /** Milliseconds since the epoch; Date.now by default. */
  clock?: () => number;
}

export interface RunningLeaseService {
  /** The lease API's base URL, as put in model offers. */
  url: string;
  leases(): LocalLease[];
  lease(id: Hex): LocalLease | undefined;
  /** One settlement pass and offer refresh now (the loop runs them every pollMs). */
  pass(): Promise<void>;
  /** The chain node lost blocks: follow again the closed leases whose close may be gone, and pass. How many. */
  followAgain(): number;
  close(): Promise<void>;
}

export async function startLeaseService(opts: LeaseServiceOptions, deps: LeaseServiceDeps): Promise<RunningLeaseService> {
  const log = deps.logger;
  const book = new LeaseBook(deps.db);
  // The provider's table (its lost-blocks watch reads it): the lease book is in the same database.
  const blocks = reliedBlocksTable(deps.db);
  // A chain node away at start-up (restarting) is waited for, not a failed start.
  const onWait = (err: Error) => log.warn("chain node not answering at start-up; waiting for it", { err });
  const windows: Windows = await untilChainAnswers(() => deps.chain.windows(), { onWait });
  const stake = deps.models.reduce((m, x) => (x.collateral > m ? x.collateral : m), 0n);
  const deposit = await untilChainAnswers(() => deps.chain.escrowBalance(deps.account.address), { onWait });
  if (deposit < stake) log.warn("LilyLeases deposit below a lease's collateral: leases will be refused", { deposit, collateral: stake });
  const ctx: LeaseContext = {
    account: deps.account,
    domain: deps.domain,
    book,
    chain: deps.chain,
    models: new Map(deps.models.map((m) => [m.cid, m])),
    rules: { mediators: opts.mediators, maxOpenDelaySeconds: opts.maxOpenDelaySeconds, maxLeaseSeconds: opts.maxLeaseSeconds },
    creditAnswers: opts.creditAnswers,
    inFlight: new Map(),
    seqs: new Map(),
    relyOn: (block) => blocks.relyOn(block),
    logger: log,
    clock: deps.clock ?? Date.now,
  };
  const server = await startLeaseServer(ctx, { host: opts.host, port: opts.port });
  const url = opts.publicUrl ?? server.url;
  const offers = deps.postOffer
    ? createModelOfferKeeper(
        { endpoint: url, mediators: opts.mediators, offerTtlSeconds: opts.offerTtlSeconds },
        { account: deps.account, domain: deps.domain, models: deps.models, post: deps.postOffer, clock: ctx.clock, logger: log },
      )
    : undefined;
  log.info("lease API listening", { url, models: deps.models.map((m) => m.label) });

  let running: Promise<void> | undefined;
  /** One pass at a time; a pass asked for during one waits for it. */
  const pass = (): Promise<void> => {
    running ??= (async () => {
      try {
        await settleLeases(ctx, windows);
        await offers?.refresh();
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const loop = () => {
    if (closed) return;
    pass()
      .catch((e) => log.warn("lease pass failed", { err: e }))
      .finally(() => {
        if (!closed) timer = setTimeout(loop, opts.pollMs);
      });
  };
  loop();

  return {
    url,
    leases: () => book.all(),
    lease: (id) => book.get(id),
    pass,
    followAgain() {
      const again = book.followAgain(seconds(ctx), windows.claimWindowSeconds);
      if (again.length > 0 && !closed) pass().catch((e) => log.warn("lease pass failed", { err: e }));
      return again.length;
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await server.close();
      await running?.catch(() => undefined);
    },
  };
}
