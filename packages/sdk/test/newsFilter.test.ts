// Which solver events wake the job creator's wait loop (newsFilter.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ChangeHint } from "@lily/api";
import { bringsNews } from "../src/newsFilter.ts";

const deal = (status: string, signed: { provider?: boolean; jobCreator?: boolean } = {}): ChangeHint => ({
  type: "deal",
  id: "0x01",
  status,
  providerSigned: signed.provider ?? false,
  jobCreatorSigned: signed.jobCreator ?? false,
});

test("a proposal is news once its provider signed it; the job creator's own signature and the match that comes with a proposal are not", () => {
  assert.equal(bringsNews(deal("proposed")), false, "the job creator signs last");
  assert.equal(bringsNews(deal("proposed", { provider: true })), true);
  assert.equal(bringsNews(deal("signed", { provider: true, jobCreator: true })), false, "its own signature's echo");
  assert.equal(bringsNews({ type: "job-offer", id: "0x01", status: "matched" }), false);
});

test("everything that moves the job on, or that the caller hears about, is news", () => {
  for (const s of ["opened", "running", "committed", "timed-out", "rejected"]) assert.equal(bringsNews(deal(s, { provider: true, jobCreator: true })), true, s);
  for (const s of ["open", "expired", "cancelled", "abandoned"]) assert.equal(bringsNews({ type: "job-offer", id: "0x01", status: s }), true, s);
  assert.equal(bringsNews(undefined), true, "a reconnection, or an event that does not read as one");
});

test("for a caller that hears no progress, a deal opening or running is not news; its result and its failures are", () => {
  const quiet = { progress: false };
  for (const s of ["opened", "running"]) assert.equal(bringsNews(deal(s, { provider: true, jobCreator: true }), quiet), false, s);
  for (const s of ["committed", "timed-out", "rejected"]) assert.equal(bringsNews(deal(s, { provider: true, jobCreator: true }), quiet), true, s);
  assert.equal(bringsNews(deal("proposed", { provider: true }), quiet), true, "a proposal to sign");
  assert.equal(bringsNews(undefined, quiet), true);
});

test("for a routed trust job, the solver seeing its settlement is not news until the provider's signed Result comes with it", () => {
  const trust = { progress: true, signedResultOnly: true };
  const committed = (resulted: boolean): ChangeHint => ({ ...deal("committed", { provider: true, jobCreator: true }), resulted });
  assert.equal(bringsNews(committed(false), trust), false, "settled on chain, no signed Result yet");
  assert.equal(bringsNews(committed(true), trust), true, "the signed Result");
  for (const s of ["timed-out", "rejected"]) assert.equal(bringsNews({ ...deal(s, { provider: true, jobCreator: true }), resulted: false }, trust), true, s);
  // Under any other policy the chain's word on a commit counts (a result to check, a window to challenge in).
  assert.equal(bringsNews(committed(false), { progress: true }), true);
  assert.equal(bringsNews(committed(false), { progress: false }), true);
});
