// When an idle provider asks the solver about its resource offers (offerSchedule.ts): not on every
// pass, but on news (an event, a reconnection, a failed check), when an offer is half-way to
// expiry, and after the slow fallback; never more than once per pass interval. Then a real
// provider left alone asks nothing for seconds, and a solver that lost its offer, once the
// subscription says so, gets it again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient, solverRoutes, type ChangeHint, type Client, type SolverRoutes } from "@lily/api";
import { isLilyError, LilyError } from "@lily/protocol";
import { OFFER_FALLBACK_MS, OfferSchedule } from "../src/offerSchedule.ts";
import { eventually, startNetwork } from "./network.ts";

const POLL = 1000;

test("a check is due at start, then only on news, at renewal time or after the fallback, at most once per pass interval", () => {
  const s = new OfferSchedule();
  assert.equal(s.due(0, POLL), true, "nothing checked yet");
  s.started(0);
  s.succeeded(600_000);
  for (const t of [POLL, 5 * POLL, OFFER_FALLBACK_MS - 1]) assert.equal(s.due(t, POLL), false, `idle at ${t} ms`);
  assert.equal(s.due(OFFER_FALLBACK_MS, POLL), true, "the fallback");

  s.started(40_000);
  s.news();
  assert.equal(s.due(40_000 + POLL - 1, POLL), false, "news waits for the pass interval");
  assert.equal(s.due(40_000 + POLL, POLL), true, "news");

  s.started(50_000);
  s.failed();
  assert.equal(s.due(50_000 + POLL, POLL), true, "a failed check is tried again next pass");

  s.started(60_000);
  s.succeeded(61_500);
  assert.equal(s.due(61_000, POLL), false);
  assert.equal(s.due(61_500, POLL), true, "an offer half-way to expiry");
});

test("news during a check asks for another one", () => {
  const s = new OfferSchedule();
  s.started(0);
  s.news();
  s.succeeded(Number.POSITIVE_INFINITY);
  assert.equal(s.due(POLL, POLL), true);
});

test("an idle provider does not ask the solver about its offer every pass, and offers it again when a reconnection finds the solver lost it", async (t) => {
  const net = await startNetwork();
  t.after(() => net.stop());
  const real = createClient(net.endpoints.solverUrl, solverRoutes);
  let reads = 0;
  let posts = 0;
  let lost = false;
  // A solver that "restarted without its database": it no longer knows the offer until it is sent again.
  const solver: Client<SolverRoutes> = {
    ...real,
    getResourceOffer: (i) => {
      reads++;
      if (lost) return Promise.reject(new LilyError({ code: "NOT_FOUND", field: "id", message: "no such resource offer" }));
      return real.getResourceOffer(i);
    },
    postResourceOffer: (i) => {
      posts++;
      lost = false;
      return real.postResourceOffer(i);
    },
  };
  let reconnected: ((hint: ChangeHint | undefined) => void) | undefined;
  const watch = (onChange: (hint: ChangeHint | undefined) => void) => {
    reconnected = onChange;
    return { close() {} };
  };
  const provider = await net.startProvider(net.providers[0]!, { opts: { pollMs: 100 }, deps: { solver, watch } });
  const atStart = { reads, posts };
  assert.equal(atStart.posts, 1, "its offer, posted at start");

  // Twenty passes with nothing new: before, each asked the solver about the offer.
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(reads - atStart.reads, 0, `${reads - atStart.reads} offer reads while idle`);

  lost = true;
  reconnected!(undefined);
  await eventually("the offer sent again", () => posts > atStart.posts);
  const record = await real.getResourceOffer({ params: { id: provider.offerId } }).catch((e) => (isLilyError(e, "NOT_FOUND") ? undefined : Promise.reject(e)));
  assert.equal(record?.active, true, "the solver holds its offer again");
});
