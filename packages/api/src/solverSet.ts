// Several solvers behind one solver client. A job creator or a provider may use more than one
// solver: it posts its offers to each, reads proposals from all of them, and sends signatures,
// progress and results to every solver (one that never proposed the deal refuses with 404, which
// is ignored). Solvers never coordinate with each other and need not: a deal is valid because both
// parties signed it, not because of who proposed it, and the job creator signs last and at most
// one deal per job offer that can still open (see @lily/sdk), so two solvers proposing for the
// same job offer cannot both get a deal opened. A solver that does not answer is skipped as long
// as another one does.
import { isLilyError, type DealRecord, type JobOfferRecord, type ResourceOfferRecord } from "@lily/protocol";
import { createClient, type Client, type ClientOptions } from "./client.ts";
import { watchChanges, type ChangeHint, type Subscription } from "./events.ts";
import type { ClientInput, Output } from "./route.ts";
import { solverRoutes, type SolverRoutes } from "./solverRoutes.ts";

type In<K extends keyof SolverRoutes> = ClientInput<SolverRoutes[K]>;
type Out<K extends keyof SolverRoutes> = Output<SolverRoutes[K]>;

/**
 * One client for the solvers at `urls` (the first is the one asked for what only one needs to
 * answer: health, explanations, the list of resource offers). With one URL it is that solver's
 * own client.
 */
export function solverSet(urls: readonly string[], opts: ClientOptions = {}): Client<SolverRoutes> {
  if (urls.length === 0) throw new Error("solverSet: no solver URL");
  const clients = urls.map((url) => createClient(url, solverRoutes, { ...opts, peer: opts.peer ?? `solver at ${url}` }));
  if (clients.length === 1) return clients[0]!;

  /** Ask every solver at once; the answers that came, in the order of `urls`, or the most telling error when none came. */
  async function all<K extends keyof SolverRoutes>(name: K, input: In<K>): Promise<Out<K>[]> {
    const settled = await Promise.allSettled(clients.map((c) => (c[name] as (i: In<K>) => Promise<Out<K>>)(input)));
    const answers = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    if (answers.length > 0) return answers;
    const errors = settled.map((s) => (s as PromiseRejectedResult).reason);
    // A refusal (bad input, unknown id) says more than "did not answer".
    throw errors.find((e) => !isLilyError(e, "UNREACHABLE")) ?? errors[0];
  }
  /** Ask the solvers in order; the first answer. */
  async function first<K extends keyof SolverRoutes>(name: K, input: In<K>): Promise<Out<K>> {
    let error: unknown;
    for (const c of clients) {
      try {
        return await (c[name] as (i: In<K>) => Promise<Out<K>>)(input);
      } catch (e) {
        error ??= e;
        if (!isLilyError(e, "UNREACHABLE")) error = e;
      }
    }
    throw error;
  }
  const firstOf = async <K extends keyof SolverRoutes>(name: K, input: In<K>) => (await all(name, input))[0]!;

  return {
    health: (i) => first("health", i),
    explainJobOffer: (i) => first("explainJobOffer", i),
    listResourceOffers: (i) => first("listResourceOffers", i),
    // Offers go to every solver; one that refuses (its own limits) does not stop the others.
    postResourceOffer: (i) => firstOf("postResourceOffer", i),
    postJobOffer: (i) => firstOf("postJobOffer", i),
    cancelJobOffer: (i) => firstOf("cancelJobOffer", i),
    // Messages about a deal go to every solver: the one that proposed it takes them, others refuse.
    signDeal: (i) => firstOf("signDeal", i),
    postDealStatus: (i) => firstOf("postDealStatus", i),
    postResult: (i) => firstOf("postResult", i),
    getDeal: (i) => firstOf("getDeal", i),
    /** Every solver's proposals, one record per deal id. */
    listDeals: async (i) => ({ deals: uniqueDeals((await all("listDeals", i)).flatMap((r) => r.deals)) }),
    /** The job offer as all solvers together hold it: every deal any of them proposed for it. */
    getJobOffer: async (i) => mergeJobOffers(await all("getJobOffer", i)),
    /**
     * Active only if every solver that answered holds it active, and unknown (404) if one of them
     * lacks it, so a provider sends it (or a new one) again, to all of them.
     */
    getResourceOffer: async (i) => {
      const settled = await Promise.allSettled(clients.map((c) => c.getResourceOffer(i)));
      const missing = settled.find((s) => s.status === "rejected" && isLilyError(s.reason, "NOT_FOUND"));
      if (missing) throw (missing as PromiseRejectedResult).reason;
      const records = await all("getResourceOffer", i);
      return mergeResourceOffers(records);
    },
  } satisfies Client<SolverRoutes>;
}

/** Watch every solver for changes (watchChanges); one close for all. */
export function watchAll(
  urls: readonly string[],
  sub: Subscription,
  onChange: (hint: ChangeHint | undefined, event?: unknown) => void,
  opts: { onOpen?: () => void; onError?: (e: unknown) => void } = {},
): { close(): void } {
  const subs = urls.map((url) => watchChanges(url, sub, onChange, opts));
  return {
    close: () => {
      for (const s of subs) s.close();
    },
  };
}

function uniqueDeals(deals: DealRecord[]): DealRecord[] {
  const seen = new Map<string, DealRecord>();
  for (const d of deals) if (!seen.has(d.id.toLowerCase())) seen.set(d.id.toLowerCase(), d);
  return [...seen.values()];
}

const statusRank: Record<JobOfferRecord["status"], number> = { matched: 3, open: 2 } as Record<JobOfferRecord["status"], number>;

function mergeJobOffers(records: JobOfferRecord[]): JobOfferRecord {
  // "matched" anywhere means a deal holds it; else "open" anywhere means some solver still matches it.
  const best = [...records].sort((a, b) => (statusRank[b.status] ?? 0) - (statusRank[a.status] ?? 0))[0]!;
  const dealIds = [...new Set(records.flatMap((r) => r.dealIds.map((d) => d.toLowerCase())))].map(
    (id) => records.flatMap((r) => r.dealIds).find((d) => d.toLowerCase() === id)!,
  );
  return { ...best, dealIds, rejections: Object.assign({}, ...records.map((r) => r.rejections)) };
}

function mergeResourceOffers(records: ResourceOfferRecord[]): ResourceOfferRecord {
  return records.find((r) => !r.active) ?? records[0]!;
}
