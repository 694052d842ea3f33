// Prices per module against a real solver: the provider holds one resource offer per distinct
// price, each with its whole capacity, the solver keeps them all active (a new offer replaces only
// those for the same modules) and matches each job to the offer of its module, and the capacity
// the deals hold is one count across the offers: the provider never signs past it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseEther, type Hex } from "viem";
import type { DealRecord } from "@lily/protocol";
import { PRICE, eventually, startNetwork } from "./network.ts";

const CHEAP = parseEther("2");

test("a provider with a price per module holds one offer per price and is paid each module's price, its capacity counted once across them", async (t) => {
  const net = await startNetwork();
  t.after(() => net.stop());
  const dir = join(net.dir, "priced-provider");
  const terms = {
    resources: { cpu: 1, memoryMb: 4096, gpu: 0, vramMb: 0 },
    moduleTerms: { prices: { primes: CHEAP }, deny: ["wordcount"] },
  };
  const provider = await net.startProvider(net.providers[0]!, { dir, opts: terms });
  assert.equal(provider.offerIds.length, 2, "cowsay at the default price, primes at its own");
  for (const id of provider.offerIds) assert.equal((await net.solver.getResourceOffer({ params: { id } })).active, true, `offer ${id} active`);
  assert.deepEqual(
    provider.plan?.refused.map((r) => r.why),
    ["wordcount@1.0.0 is denied (wordcount)"],
  );
  const before = await net.ledger();

  // Both jobs at once, on one CPU: the second waits until the first's result is on chain.
  const primes = await net.postJob({ module: net.modules.primes, inputs: await net.store.putRecord({ n: 10 }), maxPrice: CHEAP });
  const cowsay = await net.postJob({ maxPrice: PRICE });
  const first = await proposed(net, primes.id);
  assert.equal(first.deal.price, CHEAP);
  assert.equal((await net.dealsOf(cowsay.id)).length, 0, "no second deal while the first holds the only CPU");
  await net.signAsJobCreator(first);
  const second = await proposed(net, cowsay.id);
  assert.equal(second.deal.price, PRICE);
  assert.notEqual(second.deal.resourceOffer, first.deal.resourceOffer, "each job on its module's offer");
  await net.signAsJobCreator(second);
  await eventually("both settled", () => provider.deals().filter((d) => d.status === "settled").length === 2);
  const after = await net.ledger();
  assert.equal(after.providers[0], before.providers[0]! + CHEAP + PRICE);
  assert.equal(provider.status().earningsWei, CHEAP + PRICE);

  // A denied module gets no deal: the solver says the provider does not allow it.
  const denied = await net.postJob({
    module: net.modules.wordcount,
    inputs: await net.store.putRecord({ file: await net.store.putBytes(new TextEncoder().encode("a b a")) }),
  });
  const record = await net.solver.getJobOffer({ params: { id: denied.id } });
  assert.equal(record.dealIds.length, 0);
  assert.match(record.rejections[net.providers[0]!.account!.address] ?? "", /^module:/);

  // Restarted on the same terms, it keeps both offers.
  const ids = provider.offerIds;
  await provider.close();
  const again = await net.startProvider(net.providers[0]!, { dir, opts: terms });
  assert.deepEqual(again.offerIds, ids);
});

function proposed(net: Awaited<ReturnType<typeof startNetwork>>, jobId: Hex): Promise<DealRecord> {
  return eventually(`a deal signed by the provider for ${jobId.slice(0, 10)}`, async () => (await net.dealsOf(jobId)).find((d) => d.providerSignature));
}
