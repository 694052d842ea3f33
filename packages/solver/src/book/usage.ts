// What the book's deals hold, summed in SQL from bounded columns: the resources each provider
// owes its active deals, the escrow each party's unopened deals would lock, who is excluded from
// which open job offer, and the latest openBy proposed per job offer. Read every matching pass,
// so nothing here parses a record.
import type { StatementSync } from "node:sqlite";
import type { Address, Hex } from "viem";
import { ACTIVE_DEAL_STATUSES } from "../dealTransitions.ts";
import { NO_RESOURCES, addResources, type Resources } from "../matcher/resources.ts";
import { dealLocks } from "../matcher/locks.ts";
import { backingKey, trustBacked, type BackingKey } from "../matcher/backing.ts";
import type { Snapshot } from "../matcher/match.ts";

const active = ACTIVE_DEAL_STATUSES.map((s) => `'${s}'`).join(", ");
/** Deals (as `d`) that still hold something and were never seen opened: opening them would lock escrow. */
export const UNOPENED = `d.status IN (${active}) AND d.on_chain IS NULL`;
/**
 * Seconds past a dropped deal's openBy during which it still counts: the parties' clocks may run a
 * little behind the solver's, and counting a moment too long only delays a match, while counting
 * too short proposes capacity a provider knows it holds, and it declines.
 */
export const OPEN_BY_MARGIN_SECONDS = 5;
/**
 * A deal the book dropped (cancelled, unsigned in time) that a party had signed and the chain never
 * showed opened: anyone holding both signatures could still open it until its openBy, so the party
 * that signed it holds its part until then, and the book must count it as that party does.
 */
const stillOpenable = (signature: string) =>
  `(d.status = 'rejected' AND d.${signature} IS NOT NULL AND d.on_chain IS NULL AND CAST(json_extract(d.terms, '$.openBy') AS INTEGER) + ${OPEN_BY_MARGIN_SECONDS} >= :now)`;

/** `now`: unix seconds, the solver's clock. `trustEscrow`: trust deals lock from LilyTrustDeals' escrow (see matcher/backing.ts). */
export function readUsage(
  sql: (text: string) => StatementSync,
  now: number,
  trustEscrow = false,
): Pick<Snapshot, "used" | "held" | "excluded" | "lastOpenBy" | "trustEscrow"> {
  const { used, held } = readHoldings(sql, now, trustEscrow);
  return { used, held, ...readJobState(sql), ...(trustEscrow && { trustEscrow }) };
}

/** What the parties' deals hold (resources, escrow), at `now`, and until when that stands without a write (a dropped deal someone signed stops counting). */
export interface Holdings extends Pick<Snapshot, "used" | "held"> {
  used: Map<Address, Resources>;
  held: Map<BackingKey, bigint>;
  /** Unix seconds: the last second at which these sums hold, if no deal is written. */
  until: number;
}

/** `held` is keyed per escrow (`backingKey`): a job creator's LilyDeals holds do not reduce its trust backing, nor the reverse. */
export function readHoldings(sql: (text: string) => StatementSync, now: number, trustEscrow = false): Holdings {
  const used = new Map<Address, Resources>();
  const usage = sql(
    `SELECT d.provider, json_extract(j.offer, '$.cpu') AS cpu, json_extract(j.offer, '$.memoryMb') AS memoryMb,
            json_extract(j.offer, '$.gpu') AS gpu, json_extract(j.offer, '$.vramMb') AS vramMb
     FROM deals d JOIN job_offers j ON j.id = d.job_offer_id WHERE d.status IN (${active}) OR ${stillOpenable("provider_signature")}`,
  ).all({ now }) as unknown as ({ provider: Address } & Resources)[];
  for (const { provider, ...r } of usage) used.set(provider, addResources(used.get(provider) ?? NO_RESOURCES, r));

  const held = new Map<BackingKey, bigint>();
  const unopened = sql(
    `SELECT d.provider, d.job_creator, json_extract(d.terms, '$.price') AS price, json_extract(d.terms, '$.collateral') AS collateral,
            json_extract(d.terms, '$.policy') AS policy, json_extract(d.terms, '$.mediationFee') AS mediationFee,
            (${UNOPENED}) AS live, ${stillOpenable("provider_signature")} AS providerSigned, ${stillOpenable("job_creator_signature")} AS jobCreatorSigned
     FROM deals d WHERE (${UNOPENED}) OR ${stillOpenable("provider_signature")} OR ${stillOpenable("job_creator_signature")}`,
  ).all({ now }) as {
    provider: Address;
    job_creator: Address;
    price: string;
    collateral: string;
    policy: number;
    mediationFee: string;
    live: number;
    providerSigned: number;
    jobCreatorSigned: number;
  }[];
  for (const d of unopened) {
    const locks = dealLocks({ price: BigInt(d.price), collateral: BigInt(d.collateral), policy: d.policy, mediationFee: BigInt(d.mediationFee) });
    const trust = trustBacked(trustEscrow, d);
    const provider = backingKey(d.provider, trust);
    const jobCreator = backingKey(d.job_creator, trust);
    if (d.live || d.providerSigned) held.set(provider, (held.get(provider) ?? 0n) + locks.provider);
    if (d.live || d.jobCreatorSigned) held.set(jobCreator, (held.get(jobCreator) ?? 0n) + locks.jobCreator);
  }
  const next = sql(
    `SELECT MIN(CAST(json_extract(d.terms, '$.openBy') AS INTEGER)) + ${OPEN_BY_MARGIN_SECONDS} AS until FROM deals d
     WHERE ${stillOpenable("provider_signature")} OR ${stillOpenable("job_creator_signature")}`,
  ).get({ now }) as { until: number | null };
  return { used, held, until: next.until ?? Number.MAX_SAFE_INTEGER };
}

/**
 * Who is excluded from which open job offer, and the latest openBy proposed per job offer: of
 * `jobs` only when given (a pass reads what it plans), else of every open job offer.
 */
export function readJobState(sql: (text: string) => StatementSync, jobs?: readonly Hex[]): Pick<Snapshot, "excluded" | "lastOpenBy"> {
  if (jobs) {
    const excluded: Record<Hex, Record<Address, string>> = {};
    const lastOpenBy = new Map<Hex, bigint>();
    for (const job of jobs) {
      for (const row of sql("SELECT provider, reason FROM exclusions WHERE job_offer_id = ?").all(job) as { provider: Address; reason: string }[]) {
        excluded[job] ??= {};
        excluded[job][row.provider] = row.reason;
      }
      for (const row of sql("SELECT json_extract(terms, '$.openBy') AS openBy FROM deals WHERE job_offer_id = ?").all(job) as { openBy: string }[]) {
        const openBy = BigInt(row.openBy);
        if (openBy > (lastOpenBy.get(job) ?? -1n)) lastOpenBy.set(job, openBy);
      }
    }
    return { excluded, lastOpenBy };
  }

  const excluded: Record<Hex, Record<Address, string>> = {};
  const exclusions = sql("SELECT e.* FROM exclusions e JOIN job_offers j ON j.id = e.job_offer_id WHERE j.status = 'open'").all() as Record<string, string>[];
  for (const row of exclusions) {
    const job = row.job_offer_id as Hex;
    excluded[job] ??= {};
    excluded[job][row.provider as Address] = row.reason!;
  }

  const lastOpenBy = new Map<Hex, bigint>();
  const earlier = sql(
    "SELECT d.job_offer_id, json_extract(d.terms, '$.openBy') AS openBy FROM deals d JOIN job_offers j ON j.id = d.job_offer_id WHERE j.status = 'open'",
  ).all() as { job_offer_id: Hex; openBy: string }[];
  for (const row of earlier) {
    const openBy = BigInt(row.openBy);
    if (openBy > (lastOpenBy.get(row.job_offer_id) ?? -1n)) lastOpenBy.set(row.job_offer_id, openBy);
  }
  return { excluded, lastOpenBy };
}
