// The records a job's event stream brought, read by the wait loop instead of asking the solver
// again. A pass is woken by an event that carries the very record it then reads (the proposal, the
// result). At load a job creator read its job offer and deal ~4.9 times a job, each a round trip
// the solver serves too; ~2.1 remain: the pass when the stream opens (it may come before any
// event) and the one after its own signature. The first pass takes the solver's answer to the
// job offer's post, kept here the same way (waitForResult's `posted`). An event and a read are the same solver's word on the same record
// (it publishes a record as its book holds it after each committed write, in order), so using one
// trusts the solver no more than reading it did; the record is validated with the read's schema.
//
// Each kept record is used for one read, then reads go to the solver again: a stream that died
// without closing (no heartbeat) can serve a stale record at most once. A record kept from before
// one of this client's own writes about the same id (its signature, its cancellation) is dropped
// when the write ends, so a read after a write sees the write, as an answer from the solver would.
// With several solvers a read merges all of their answers (solverSet.ts), which one stream cannot
// stand for: the reads go to the solvers, as before.
import { DealRecord, JobOfferRecord } from "@lily/protocol";
import { eventRecord, type Client, type SolverRoutes } from "@lily/api";

type Kind = "deal" | "job-offer";

export interface PushedRecords {
  /** An event as the stream parsed it (unvalidated): kept if it is a deal or job-offer record. */
  put(event: unknown): void;
  /** Forget everything: the stream dropped, so what it kept may be missing later changes. */
  clear(): void;
}

const keyOf = (kind: Kind, id: string) => `${kind}:${id.toLowerCase()}`;

/** The record as the read's schema parses it; undefined (so the solver is asked) when none was kept or it does not parse. */
function valid<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }, record: unknown): T | undefined {
  if (record === undefined) return undefined;
  const r = schema.safeParse(record);
  return r.success ? r.data : undefined;
}

/**
 * A per-job store of pushed records, and the solver client that reads from it first: `getDeal`
 * and `getJobOffer` take a kept record (validated as the answer would be; one that is not valid is
 * not used) or ask the solver; `signDeal` and `cancelJobOffer` drop what was kept about their id
 * once they end.
 */
export function pushedRecords(solver: Client<SolverRoutes>): { records: PushedRecords; solver: Client<SolverRoutes> } {
  const kept = new Map<string, unknown>();
  const take = (kind: Kind, id: string): unknown => {
    const key = keyOf(kind, id);
    const record = kept.get(key);
    kept.delete(key);
    return record;
  };
  const after = <T>(write: Promise<T>, kind: Kind, id: string): Promise<T> => write.finally(() => kept.delete(keyOf(kind, id)));
  const records: PushedRecords = {
    put(event) {
      const ev = eventRecord(event);
      if (ev) kept.set(keyOf(ev.type, ev.id), ev.record);
    },
    clear: () => kept.clear(),
  };
  const reading: Client<SolverRoutes> = {
    ...solver,
    getDeal: async (i) => valid(DealRecord, take("deal", i.params.id)) ?? solver.getDeal(i),
    getJobOffer: async (i) => valid(JobOfferRecord, take("job-offer", i.params.id)) ?? solver.getJobOffer(i),
    signDeal: (i) => after(solver.signDeal(i), "deal", i.params.id),
    cancelJobOffer: (i) => after(solver.cancelJobOffer(i), "job-offer", i.params.id),
  };
  return { records, solver: reading };
}
