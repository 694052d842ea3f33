// The challenges the gateway sent for its users, followed until their window closes. A chain node
// that loses its last blocks (anvil restarted from its state file; a reorg on a real chain) can
// take a confirmed challenge with it: the deal is committed again, nobody challenges, and when the
// window closes the user has paid for the result they disputed. So each challenge sent is written
// down, and at most once an interval the chain is asked where each deal stands: one committed again
// while its window is open is challenged again, with the same reason (the rule is the SDK's
// challengeStep). A row is dropped once nothing can be challenged any more.
import type { Hex } from "viem";
import { dealRecord } from "@lily/chain";
import type { Database, Logger } from "@lily/node-kit";
import { challengeJob, challengeStep, type JobCreatorContext } from "@lily/sdk";

export const challengeMigration = `CREATE TABLE challenges (
  deal TEXT PRIMARY KEY,
  job TEXT NOT NULL,           -- the job offer's id (its journal entry holds the deal)
  reason TEXT,                 -- the bytes32 reason sent, if any
  tx TEXT NOT NULL,            -- the latest challenge transaction
  created_at INTEGER NOT NULL
)`;

export interface ChallengeFollower {
  /** Follow a challenge just confirmed on chain. */
  record(c: { dealId: Hex; jobOfferId: Hex; reason?: Hex; txHash: Hex }): void;
  /** Look at the followed challenges unless looked at within the interval or already looking; never throws. */
  check(): void;
  /** The look in flight, if any (for closing and tests). */
  readonly running: Promise<void> | undefined;
}

export interface ChallengeFollowerDeps {
  db: Database;
  ctx: JobCreatorContext;
  log: Logger;
  /** Milliseconds since the epoch. */
  clock: () => number;
  intervalMs?: number;
}

interface Row {
  deal: Hex;
  job: Hex;
  reason: Hex | null;
}

export function followChallenges(deps: ChallengeFollowerDeps): ChallengeFollower {
  const { db, clock } = deps;
  const intervalMs = deps.intervalMs ?? 1000;
  let last = Number.NEGATIVE_INFINITY;
  let running: Promise<void> | undefined;
  return {
    record({ dealId, jobOfferId, reason, txHash }) {
      db.prepare("INSERT OR REPLACE INTO challenges (deal, job, reason, tx, created_at) VALUES (?, ?, ?, ?, ?)").run(
        dealId.toLowerCase(),
        jobOfferId.toLowerCase(),
        reason ?? null,
        txHash,
        clock(),
      );
    },
    check() {
      if (running || clock() - last < intervalMs) return;
      last = clock();
      running = lookOnce(deps)
        .catch((err: unknown) => deps.log.warn("could not check that our challenges are still on chain; checking again later", { err }))
        .finally(() => (running = undefined));
    },
    get running() {
      return running;
    },
  };
}

async function lookOnce({ db, ctx, log }: ChallengeFollowerDeps): Promise<void> {
  const rows = db.prepare("SELECT deal, job, reason FROM challenges").all() as unknown as Row[];
  if (rows.length === 0) return;
  const now = (await ctx.chain.publicClient.getBlock({ blockTag: "latest" })).timestamp;
  for (const row of rows) {
    // One deal the chain refuses (or a node away) does not hold up the others: it is looked at again next time.
    await followOne({ db, ctx, log }, row, now).catch((err: unknown) =>
      log.warn("following a challenge failed; trying again later", { job: row.job, deal: row.deal, err }),
    );
  }
}

async function followOne({ db, ctx, log }: Pick<ChallengeFollowerDeps, "db" | "ctx" | "log">, row: Row, now: bigint): Promise<void> {
  const deal = ctx.journal.get(row.job)?.deal;
  const onChain = await dealRecord(ctx.chain, { dealId: row.deal });
  const step = deal ? challengeStep(onChain, deal, now) : "done";
  if (step === "again") {
    const sent = await challengeJob(ctx, row.job, row.reason ?? undefined);
    db.prepare("UPDATE challenges SET tx = ? WHERE deal = ?").run(sent.txHash, row.deal);
    log.warn("the chain node lost our challenge (blocks lost); challenged again while the window is open", { job: row.job, deal: row.deal, tx: sent.txHash });
  } else if (step === "done") {
    db.prepare("DELETE FROM challenges WHERE deal = ?").run(row.deal);
    if (onChain.state === "committed")
      log.error("our challenge was lost with blocks the chain node dropped, and the window closed", { job: row.job, deal: row.deal });
  }
}
