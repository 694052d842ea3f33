// Each role's SQLite database, read (read-only) after a chaos run and compared with the chain:
// what the provider, the solver and the mediator believe about every deal must be what happened.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { DealStateName } from "@lily/chain";

function rows<T>(path: string, sql: string): T[] {
  if (!existsSync(path)) throw new Error(`no database at ${path}`);
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

/** The provider statuses a deal may end in, given its state on chain once everything settled. */
const PROVIDER_ENDS: Record<DealStateName, readonly string[]> = {
  none: ["declined", "expired"],
  open: [],
  committed: [],
  challenged: [],
  settled: ["settled"],
  timedOut: ["failed"],
  slashed: ["slashed"],
};

/** The solver statuses a deal may end in, given its state on chain. */
const SOLVER_ENDS: Record<DealStateName, readonly string[]> = {
  none: ["rejected"],
  open: [],
  committed: [],
  challenged: [],
  settled: ["committed"],
  timedOut: ["timed-out"],
  slashed: ["committed", "timed-out"],
};

/** What the chain (and the job creators' journals) say of a deal, by id. */
export interface ChainView {
  stateOf(dealId: string): Promise<DealStateName>;
  /** The nonce both parties signed a deal routed to LilyTrustDeals under, as the job creator's journal holds it; undefined if it holds none. */
  trustNonceOf(dealId: string): bigint | undefined;
}

/**
 * Disagreements between the role databases and the chain, one line each (empty: consistent).
 * Only deals of the given job creators are judged; a deal the chain never opened must have been
 * given up (declined, expired, rejected), not still held. A routed trust deal's nonce in the
 * provider's and the solver's database must be the one in the job creator's journal.
 */
export async function roleDbDisagreements(home: string, providers: string[], mediators: string[], chain: ChainView): Promise<string[]> {
  const bad: string[] = [];
  const state = new Map<string, DealStateName>();
  const stateOf = async (id: string) => {
    const k = id.toLowerCase();
    if (!state.has(k)) state.set(k, await chain.stateOf(k));
    return state.get(k)!;
  };
  const checkNonce = (who: string, id: string, held: string | undefined | null) => {
    const signed = chain.trustNonceOf(id.toLowerCase());
    // The provider keeps it in decimal, the solver as a 0x word: compared as numbers.
    if (signed !== undefined && (held == null || BigInt(held) !== signed))
      bad.push(`${who} db: deal ${id} has trust nonce ${held}, the job creator signed it under ${signed}`);
  };

  for (const p of providers) {
    const deals = rows<{ id: string; status: string; error: string | null; extra: string }>(
      join(home, "data", p, "provider.db"),
      "SELECT id, status, error, extra FROM deals",
    );
    for (const d of deals) {
      checkNonce(p, d.id, (JSON.parse(d.extra) as { trustNonce?: string }).trustNonce);
      const s = await stateOf(d.id);
      if (!PROVIDER_ENDS[s].includes(d.status))
        bad.push(
          `${p} db: deal ${d.id} is ${d.status}${d.error ? ` (${d.error})` : ""}, the chain says ${s} (expected ${PROVIDER_ENDS[s].join(" or ") || "an ended deal"})`,
        );
    }
  }

  const solverDeals = rows<{ id: string; job_offer_id: string; status: string; trust_nonce: string | null }>(
    join(home, "data", "solver", "solver.db"),
    "SELECT id, job_offer_id, status, trust_nonce FROM deals",
  );
  const livePerJob = new Map<string, string[]>();
  for (const d of solverDeals) {
    checkNonce("solver", d.id, d.trust_nonce);
    const s = await stateOf(d.id);
    if (!SOLVER_ENDS[s].includes(d.status)) bad.push(`solver db: deal ${d.id} is ${d.status}, the chain says ${s} (expected ${SOLVER_ENDS[s].join(" or ")})`);
    if (s !== "none") livePerJob.set(d.job_offer_id, [...(livePerJob.get(d.job_offer_id) ?? []), d.id]);
  }
  for (const [job, ids] of livePerJob) if (ids.length > 1) bad.push(`solver db: job offer ${job} has ${ids.length} deals on chain: ${ids.join(", ")}`);

  for (const m of mediators) {
    const open = rows<{ key: string; status: string; error: string | null }>(
      join(home, "data", m, "mediator.db"),
      "SELECT key, status, error FROM disputes WHERE status NOT IN ('ruled', 'not-mine', 'failed')",
    );
    for (const d of open) bad.push(`${m} db: dispute ${d.key} still ${d.status}${d.error ? ` (${d.error})` : ""}`);
    const failed = rows<{ key: string; error: string | null }>(join(home, "data", m, "mediator.db"), "SELECT key, error FROM disputes WHERE status = 'failed'");
    for (const d of failed) bad.push(`${m} db: dispute ${d.key} failed: ${d.error}`);
  }
  return bad;
}

/** How many disputes (audits drawn, challenges) each status holds over the mediators' databases. */
export function disputeCounts(home: string, mediators: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of mediators) {
    for (const r of rows<{ status: string; n: number }>(join(home, "data", m, "mediator.db"), "SELECT status, COUNT(*) AS n FROM disputes GROUP BY status"))
      out[r.status] = (out[r.status] ?? 0) + r.n;
  }
  return out;
}
