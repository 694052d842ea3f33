// Model offers on the solver: a provider's signed offer in, listed for its model cheapest first;
// only the provider's newest offer per model is kept (the solver can neither forge one nor bring an
// older one back), expired and far-future offers are refused, and a restart lists the same offers.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Address, LocalAccount } from "viem";
import { createClient, modelOfferRoutes } from "@lily/api";
import { hashRecord, signRecord, type Domain, type ModelOffer } from "@lily/protocol";
import { startTestChain, startTestSolver, account, cid, fails, now, inAnHour, type TestChain } from "./harness.ts";

/** LilyLeases need not be deployed to sign and check offers: only its address enters the domain. */
const LEASES = `0x${"1ea5e".padStart(40, "0")}` as Address;
const llama = cid("tiny-llama manifest");
const mistral = cid("tiny-mistral manifest");

let chain: TestChain;
let leasesDomain: Domain;
before(async () => {
  chain = await startTestChain();
  leasesDomain = { chainId: chain.domain.chainId, verifyingContract: LEASES };
});
after(() => chain.stop());

let nonce = 0n;
const modelOffer = (provider: LocalAccount, o: Partial<ModelOffer> = {}): ModelOffer => ({
  provider: provider.address,
  model: llama,
  inputPricePer1k: 10n,
  outputPricePer1k: 20n,
  collateral: 1000n,
  endpoint: "http://127.0.0.1:7200",
  mediators: [],
  expiresAt: inAnHour(),
  nonce: ++nonce,
  ...o,
});
const signed = async (by: LocalAccount, offer: ModelOffer, domain = leasesDomain) => ({ offer, signature: await signRecord(by, domain, "ModelOffer", offer) });

async function startSolver(t: Parameters<typeof startTestSolver>[0], o: Parameters<typeof startTestSolver>[2] = {}) {
  const s = await startTestSolver(t, chain, { leases: LEASES, ...o });
  return { ...s, offers: createClient(s.solver.url, modelOfferRoutes) };
}

test("a posted offer is listed for its model under its EIP-712 hash", async (t) => {
  const { offers } = await startSolver(t);
  const rp = account();
  const offer = modelOffer(rp);
  const rec = await offers.postModelOffer({ body: await signed(rp, offer) });
  assert.equal(rec.id, hashRecord(leasesDomain, "ModelOffer", offer));
  assert.deepEqual(rec.offer, offer);
  const { offers: listed } = await offers.listModelOffers({ query: { model: llama } });
  assert.deepEqual(
    listed.map((r) => r.id),
    [rec.id],
  );
  assert.deepEqual((await offers.listModelOffers({ query: { model: mistral } })).offers, []);
});

test("offers are listed cheapest first: output price, then input price, then the earlier posted", async (t) => {
  const { offers } = await startSolver(t);
  const [a, b, c, d] = [account(), account(), account(), account()];
  await offers.postModelOffer({ body: await signed(a, modelOffer(a, { outputPricePer1k: 30n, inputPricePer1k: 1n })) });
  await offers.postModelOffer({ body: await signed(b, modelOffer(b, { outputPricePer1k: 20n, inputPricePer1k: 9n })) });
  await offers.postModelOffer({ body: await signed(c, modelOffer(c, { outputPricePer1k: 20n, inputPricePer1k: 5n })) });
  await offers.postModelOffer({ body: await signed(d, modelOffer(d, { outputPricePer1k: 20n, inputPricePer1k: 9n })) });
  const { offers: listed } = await offers.listModelOffers({ query: { model: llama } });
  assert.deepEqual(
    listed.map((r) => r.offer.provider),
    [c, b, d, a].map((p) => p.address),
  );
});

test("a newer nonce replaces the provider's offer for the model; an older one is refused; the same one again changes nothing", async (t) => {
  const { offers } = await startSolver(t);
  const rp = account();
  const first = await offers.postModelOffer({ body: await signed(rp, modelOffer(rp, { nonce: 10n, outputPricePer1k: 50n })) });
  const again = await offers.postModelOffer({ body: await signed(rp, first.offer) });
  assert.deepEqual(again, first);
  const newer = await offers.postModelOffer({ body: await signed(rp, modelOffer(rp, { nonce: 11n, outputPricePer1k: 40n })) });
  await assert.rejects(offers.postModelOffer({ body: await signed(rp, first.offer) }), fails("CONFLICT", "offer.nonce"));
  await assert.rejects(
    offers.postModelOffer({ body: await signed(rp, modelOffer(rp, { nonce: 11n, outputPricePer1k: 1n })) }),
    fails("CONFLICT", "offer.nonce"),
  );
  // An offer for another model is a separate entry.
  const other = await offers.postModelOffer({ body: await signed(rp, modelOffer(rp, { model: mistral, nonce: 1n })) });
  assert.deepEqual(
    (await offers.listModelOffers({ query: { model: llama } })).offers.map((r) => r.id),
    [newer.id],
  );
  assert.deepEqual((await offers.listModelOffers({ query: {} })).offers.map((r) => r.id).sort(), [newer.id, other.id].sort());
});

test("expired and too-far-future offers are refused and listed nowhere", async (t) => {
  const { offers } = await startSolver(t, { maxModelOfferTtlSeconds: 600 });
  const rp = account();
  await assert.rejects(offers.postModelOffer({ body: await signed(rp, modelOffer(rp, { expiresAt: now() - 1n })) }), fails("INVALID_INPUT", "offer.expiresAt"));
  await assert.rejects(
    offers.postModelOffer({ body: await signed(rp, modelOffer(rp, { expiresAt: now() + 3600n })) }),
    fails("INVALID_INPUT", "offer.expiresAt"),
  );
  assert.deepEqual((await offers.listModelOffers({ query: { model: llama } })).offers, []);
});

test("an offer not signed by its provider, or signed for another contract, is refused", async (t) => {
  const { offers } = await startSolver(t);
  const rp = account();
  const forger = account();
  // The solver (or anyone) cannot post an offer in a provider's name.
  await assert.rejects(offers.postModelOffer({ body: await signed(forger, modelOffer(rp)) }), fails("BAD_SIGNATURE", "signature"));
  // Nor replay one signed for LilyDeals as a lease offer.
  await assert.rejects(offers.postModelOffer({ body: await signed(rp, modelOffer(rp), chain.domain) }), fails("BAD_SIGNATURE", "signature"));
  // Nor alter a signed offer's price.
  const honest = await signed(rp, modelOffer(rp));
  await assert.rejects(offers.postModelOffer({ body: { ...honest, offer: { ...honest.offer, outputPricePer1k: 1n } } }), fails("BAD_SIGNATURE", "signature"));
  assert.deepEqual((await offers.listModelOffers({ query: { model: llama } })).offers, []);
});

test("a provider holds offers for a bounded number of models", async (t) => {
  const { offers } = await startSolver(t, { maxModelOffersPerProvider: 2 });
  const rp = account();
  await offers.postModelOffer({ body: await signed(rp, modelOffer(rp, { model: llama })) });
  await offers.postModelOffer({ body: await signed(rp, modelOffer(rp, { model: mistral })) });
  await assert.rejects(offers.postModelOffer({ body: await signed(rp, modelOffer(rp, { model: cid("a third model") })) }), fails("CONFLICT", "offer.provider"));
  // Replacing one it holds is always possible.
  await offers.postModelOffer({ body: await signed(rp, modelOffer(rp, { model: mistral, outputPricePer1k: 1n })) });
  // Another provider is not held back by it.
  const other = account();
  await offers.postModelOffer({ body: await signed(other, modelOffer(other, { model: cid("a third model") })) });
});

test("a restarted solver lists the same offers and still refuses an older nonce", async (t) => {
  const first = await startSolver(t);
  const rp = account();
  const old = await first.offers.postModelOffer({ body: await signed(rp, modelOffer(rp, { nonce: 100n })) });
  const newest = await first.offers.postModelOffer({ body: await signed(rp, modelOffer(rp, { nonce: 101n, outputPricePer1k: 5n })) });
  await first.solver.close();

  const second = await startSolver(t, { dbPath: first.dbPath });
  assert.deepEqual((await second.offers.listModelOffers({ query: { model: llama } })).offers, [newest]);
  await assert.rejects(second.offers.postModelOffer({ body: await signed(rp, old.offer) }), fails("CONFLICT", "offer.nonce"));
});
