// What the book's deals hold, summed in SQL from bounded columns: the resources each provider
// owes its active deals, the escrow each party's unopened deals would lock, who is excluded from
// which open job offer, and the latest openBy proposed per job offer. Read every matching pass,
// so nothing here parses a record.
import type { StatementSync } from "node:sqlite";
import type { Address, Hex } from "viem";
import { ACTIVE_DEAL_STATUSES } from "../dealTransitions.ts";
import { NO_RESOURCES, addResources, type Resources } from "../matcher/resources.ts";
import { dealLocks } from "../matcher/locks.ts";
import type { Snapshot } from "../matcher/match.ts";

const active = ACTIVE_DEAL_STATUSES.map((s) => `'${s}'`).join(", ");
/** Deals (as `d`) that still hold something and were never seen opened: opening them would lock escrow. */
export const UNOPENED = `d.status IN (${active}) AND d.on_chain IS NULL`;

export function readUsage(sql: (text: string) => StatementSync): Pick<Snapshot, "used" | "held" | "excluded" | "lastOpenBy"> {
  const used = new Map<Address, Resources>();
  const usage = sql(
    `SELECT d.provider, json_extract(j.offer, '$.cpu') AS cpu, json_extract(j.offer, '$.memoryMb') AS memoryMb,
            json_extract(j.offer, '$.gpu') AS gpu, json_extract(j.offer, '$.vramMb') AS vramMb
     FROM deals d JOIN job_offers j ON j.id = d.job_offer_id WHERE d.status IN (${active})`,
  ).all() as unknown as ({ provider: Address } & Resources)[];
  for (const { provider, ...r } of usage) used.set(provider, addResources(used.get(provider) ?? NO_RESOURCES, r));

  const held = new Map<Address, bigint>();
  const unopened = sql(
    `SELECT d.provider, d.job_creator, json_extract(d.terms, '$.price') AS price, json_extract(d.terms, '$.collateral') AS collateral,
            json_extract(d.terms, '$.policy') AS policy, json_extract(d.terms, '$.mediationFee') AS mediationFee
     FROM deals d WHERE ${UNOPENED}`,
  ).all() as { provider: Address; job_creator: Address; price: string; collateral: string; policy: number; mediationFee: string }[];
  for (const d of unopened) {
    const locks = dealLocks({ price: BigInt(d.price), collateral: BigInt(d.collateral), policy: d.policy, mediationFee: BigInt(d.mediationFee) });
    held.set(d.provider, (held.get(d.provider) ?? 0n) + locks.provider);
    held.set(d.job_creator, (held.get(d.job_creator) ?? 0n) + locks.jobCreator);
  }

  const excluded: Record<Hex, Record<Address, string>> = {};
  const exclusions = sql("SELECT e.* FROM exclusions e JOIN job_offers j ON j.id = e.job_offer_id WHERE j.status = 'open'").all() as Record<string, string>[];
  for (const row of exclusions) (excluded[row.job_offer_id as Hex] ??= {})[row.provider as Address] = row.reason!;

  const lastOpenBy = new Map<Hex, bigint>();
  const earlier = sql(
    "SELECT d.job_offer_id, json_extract(d.terms, '$.openBy') AS openBy FROM deals d JOIN job_offers j ON j.id = d.job_offer_id WHERE j.status = 'open'",
  ).all() as { job_offer_id: Hex; openBy: string }[];
  for (const row of earlier) {
    const openBy = BigInt(row.openBy);
    if (openBy > (lastOpenBy.get(row.job_offer_id) ?? -1n)) lastOpenBy.set(row.job_offer_id, openBy);
  }
  return { used, held, excluded, lastOpenBy };
}
