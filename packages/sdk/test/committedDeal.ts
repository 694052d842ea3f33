// A deal under the optimistic policy, opened and committed on the chain fixture's anvil, and the
// journal entry its job creator keeps for it: what a challenge needs, without a solver or a store.
import { keccak256, toHex, type Hex, type LocalAccount } from "viem";
import { commitResult, createLilyClient } from "@lily/chain";
import { cidForBytes, signRecord, type NetworkEndpoints } from "@lily/protocol";
import type { Fixture } from "../../chain/test/fixture.ts";
import type { JobEntry } from "../src/index.ts";
import { PLAIN_JOB_TERMS } from "../../../test/support/jobOffers.ts";

/** The network as a job creator's options name it; nothing here serves the solver or store URLs. */
export const fixtureEndpoints = (f: Fixture): NetworkEndpoints => ({
  rpcUrl: f.anvil.rpcUrl,
  chainId: f.addresses.chainId,
  token: f.addresses.token,
  deals: f.addresses.deals,
  registry: f.addresses.registry!,
  leases: f.addresses.leases!,
  deployBlock: f.addresses.deployBlock,
  solverUrl: "http://127.0.0.1:9",
  storeUrl: "http://127.0.0.1:9",
});

/** A committed deal of `jobCreator` (funded and deposited already) with a challenge window of `window` seconds. */
export async function committedDeal(f: Fixture, jobCreator: LocalAccount, window: bigint): Promise<JobEntry> {
  const signed = await f.newDeal(f.policyTerms("optimistic", window, { jobCreator: jobCreator.address }));
  const client = createLilyClient({ rpcUrl: f.anvil.rpcUrl, account: jobCreator, addresses: f.addresses });
  const dealId = await f.open({ ...signed, jobCreatorSig: await signRecord(jobCreator, client.domain, "Deal", signed.deal) });
  await commitResult(f.provider, { deal: signed.deal, resultDigest: keccak256(toHex("the result under dispute")) });
  const cid = cidForBytes(new TextEncoder().encode("cowsay"));
  return {
    jobOfferId: signed.deal.jobOffer as Hex,
    module: "cowsay@1.0.0",
    offer: {
      ...PLAIN_JOB_TERMS,
      jobCreator: jobCreator.address,
      module: cid,
      inputs: cid,
      cpu: 1,
      memoryMb: 64,
      maxPrice: signed.deal.price,
      policy: signed.deal.policy,
      policyParam: window,
      mediationFee: signed.deal.mediationFee,
      timeoutSeconds: 60n,
      expiresAt: signed.deal.deadline,
      nonce: 1n,
    },
    stage: "committed",
    dealId,
    deal: signed.deal,
    createdAt: Date.now(),
  };
}
