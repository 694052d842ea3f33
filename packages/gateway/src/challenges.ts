// The challenges the gateway sent for its users, followed until their window closes. A chain node
// that loses its last blocks (anvil restarted from its state file; a reorg on a real chain) can
// take a confirmed challenge with it: the deal is committed again, nobody challenges, and when the
// window closes the user has paid for the result they disputed. So each challenge sent is written
// down and followed with the SDK's followChallenge, which sends a lost one again with the same
// reason; the rows left when the gateway stopped are followed again when it starts. A row is
// dropped once nothing can be challenged any more.
import type { Hex } from "viem";
import type { Database, Logger } from "@lily/node-kit";
import { followChallenge, type JobCreatorContext } from "@lily/sdk";

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
  /** Stop following (the rows stay, for the next start); resolves once every look in flight ended. */
  close(): Promise<void>;
}

export interface ChallengeFollowerDeps {
  db: Database;
  ctx: JobCreatorContext;
  log: Logger;
  /** Milliseconds since the epoch. */
  clock: () => number;
  /** The pause between two looks at one challenge (the SDK's default when unset). */
  intervalMs?: number;
}

interface Row {
  deal: Hex;
  job: Hex;
  reason: Hex | null;
}

/** Follow every challenge written down (those a stopped gateway left, then each one recorded). */
export function followChallenges(deps: ChallengeFollowerDeps): ChallengeFollower {
  const { db, clock } = deps;
  const stop = new AbortController();
  const following = new Map<Hex, Promise<void>>();
  const follow = (row: Row) => {
    if (following.has(row.deal) || stop.signal.aborted) return;
    following.set(
      row.deal,
      followOne(deps, row, stop.signal).finally(() => following.delete(row.deal)),
    );
  };
  for (const row of db.prepare("SELECT deal, job, reason FROM challenges").all() as unknown as Row[]) follow(row);
  return {
    record({ dealId, jobOfferId, reason, txHash }) {
      const row: Row = { deal: dealId.toLowerCase() as Hex, job: jobOfferId.toLowerCase() as Hex, reason: reason ?? null };
      db.prepare("INSERT OR REPLACE INTO challenges (deal, job, reason, tx, created_at) VALUES (?, ?, ?, ?, ?)").run(
        row.deal,
        row.job,
        row.reason,
        txHash,
        clock(),
      );
      follow(row);
    },
    async close() {
      stop.abort();
      await Promise.all(following.values());
    },
  };
}

/** Follow one challenge to its end; never rejects. */
async function followOne({ db, ctx, log, intervalMs }: ChallengeFollowerDeps, row: Row, signal: AbortSignal): Promise<void> {
  const fields = { job: row.job, deal: row.deal };
  try {
    const outcome = await followChallenge(ctx, {
      jobOfferId: row.job,
      reason: row.reason ?? undefined,
      signal,
      intervalMs,
      onProgress: (p) => {
        if (p.kind === "sentAgain") {
          db.prepare("UPDATE challenges SET tx = ? WHERE deal = ?").run(p.txHash, row.deal);
          log.warn("the chain node lost our challenge (blocks lost); challenged again while the window is open", { ...fields, tx: p.txHash });
        } else if (p.kind === "lookFailed") {
          log.warn("following a challenge failed; trying again later", { ...fields, err: p.error });
        }
      },
    });
    if (outcome.lost) log.error("our challenge was lost with blocks the chain node dropped, and the window closed", fields);
  } catch (err) {
    // Stopped: the row stays and is followed again when the gateway starts.
    if (signal.aborted) return;
    // No deal in the journal (the journal was replaced): nothing this gateway can challenge again.
    log.warn("a challenge can no longer be followed; forgetting it", { ...fields, err });
  }
  db.prepare("DELETE FROM challenges WHERE deal = ?").run(row.deal);
}
