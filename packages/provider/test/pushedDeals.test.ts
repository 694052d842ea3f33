// The deal records a provider keeps from the solver's events for a pass about those deals alone
// (pushedDeals.ts): kept when news, refreshed by echoes, taken once, dropped when stale.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DealRecord as DealRecordSchema, cidForBytes, toWire, type DealRecord } from "@lily/protocol";
import { PushedDeals } from "../src/pushedDeals.ts";
import { signedDeal } from "./localDeals.ts";

const local = signedDeal(1);
const id = local.id;
const aCid = cidForBytes(new TextEncoder().encode("lily pushed deals test"));
/** The solver's record of the deal in `status`, as an event carries it (wire form). */
const record = (status: string) =>
  toWire({
    id,
    deal: local.deal,
    jobOfferId: local.deal.jobOffer,
    resourceOfferId: local.deal.resourceOffer,
    module: aCid,
    inputs: aCid,
    status,
    updatedAt: 1,
  });
const event = (status: string, r: unknown = record(status)) => ({ type: "deal", record: r });

test("a news event's record is taken once, validated; an echo only refreshes a record already kept", () => {
  const parsed = (r: DealRecord | undefined) => r?.status;
  const kept = new PushedDeals();
  const valid = record("signed");
  kept.put(event("signed", valid), { news: true });
  assert.deepEqual(kept.take(id), DealRecordSchema.parse(valid), "a valid record, as the list would have parsed it");
  kept.put(event("proposed"), { news: false });
  assert.equal(kept.take(id), undefined, "an echo alone is not kept");
  kept.put(event("signed"), { news: true });
  kept.put(event("running"), { news: false });
  assert.equal(parsed(kept.take(id.toUpperCase().replace("0X", "0x"))), "running", "the echo refreshed it; any case of the id");
  assert.equal(kept.take(id), undefined, "taken once");
  kept.put(event("signed", { ...(valid as object), status: "no such status" }), { news: true });
  assert.equal(kept.take(id), undefined, "a record that does not validate is not used");
  kept.put(event("signed"), { news: true });
  kept.clear();
  assert.equal(kept.take(id), undefined, "dropped when the stream opens again or a pass lists anew");
  kept.put({ type: "job-offer", record: { id } }, { news: true });
  kept.put(undefined, { news: true });
  assert.equal(kept.take(id), undefined, "only deal events");
});
