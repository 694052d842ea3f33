// Deal records as the solver's events bring them, for a pass about those deals alone. The news
// that wakes a provider for a deal it follows (the job creator's signature, an opening by another
// party) is an event that carries the deal's whole record; the pass it started used to list every
// proposed and signed deal of this provider again and read every followed deal's chain state, to
// act on that one deal. With one solver, a pass whose news all names deals followed here, each with
// a record kept from its event, handles just those deals with those records (provider.ts). A full
// pass still comes at least every pollMs, and for every other kind of news (a proposal, a
// reconnection, capacity freed, a lost block), so nothing waits on a stream that went quiet for
// longer than a poll. Trust: the event is the same solver's word on the same record that a list
// would have brought, validated with the same schema; a record that does not validate is not used.
import { eventRecord } from "@lily/api";
import { DealRecord } from "@lily/protocol";

export class PushedDeals {
  private readonly records = new Map<string, unknown>();

  /**
   * Keep the record a deal event brought, when it is news (a pass will ask for it); an echo only
   * replaces a record already kept, so it stays the latest. Anything else is ignored. What is kept
   * is taken by the next pass about the deal, or dropped by the next full pass (`clear`).
   */
  put(event: unknown, { news }: { news: boolean }): void {
    const ev = eventRecord(event);
    if (ev?.type !== "deal") return;
    const key = ev.id.toLowerCase();
    if (news || this.records.has(key)) this.records.set(key, ev.record);
  }

  /** Forget everything kept: the stream dropped or opened again (what it brought may be stale), or a pass listed the deals anew. */
  clear(): void {
    this.records.clear();
  }

  /** The deal's record, validated, taken once; undefined when none was kept or it does not validate. */
  take(dealId: string): DealRecord | undefined {
    const key = dealId.toLowerCase();
    const raw = this.records.get(key);
    this.records.delete(key);
    const parsed = DealRecord.safeParse(raw);
    return parsed.success ? parsed.data : undefined;
  }
}
