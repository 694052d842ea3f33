// What the chain does not say about a deal: the module it ran and the resources its job asked for.
// DealOpened names neither (the deal carries only its job offer's digest), so they are asked of the
// solver, and believed only when they hash to what the chain holds (a trust deal's record is found
// by its leaf: see trustDealRecord). Both are fixed once the deal exists, so each deal is asked
// about once; a solver that did not answer is asked again next time.
import type { Hash, Hex } from "viem";
import { createClient, solverRoutes } from "@lily/api";
import { dealId, trustDealId, type LilyClient } from "@lily/chain";
import { hashRecord, trustDealOf, type DealRecord } from "@lily/protocol";
import type { DealActivity } from "./chainActivity.ts";

export interface Resources {
  cpu: number;
  memoryMb: number;
  gpu: number;
  vramMb: number;
}

export interface DealDetails {
  /** The module's manifest CID. */
  module: string;
  /** The resources its job offer asked for. */
  resources: Resources;
}

export interface DealDetailsBook {
  /** The deal's module and resources; undefined when the solver does not know it or its record does not match the chain. */
  of(deal: DealActivity): Promise<DealDetails | undefined>;
}

export function createDealDetails(chain: LilyClient, solverUrl: string): DealDetailsBook {
  const solver = createClient(solverUrl, solverRoutes, { peer: `solver at ${solverUrl}` });
  const known = new Map<Hex, Promise<DealDetails | undefined>>();

  /** The solver's record of a LilyDeals deal, by its id. */
  async function dealRecord(deal: DealActivity): Promise<DealRecord | undefined> {
    const record = await solver.getDeal({ params: { id: deal.id } }).catch((e: unknown) => {
      // NOT_FOUND: a deal the solver never proposed (another solver's); the answer will not change.
      if ((e as { code?: string }).code === "NOT_FOUND") return undefined;
      throw e;
    });
    // REJECT: the solver's terms must hash to the deal id the chain opened.
    return record && dealId(chain.addresses, record.deal) === deal.id ? record : undefined;
  }

  /**
   * The solver's record of a trust deal: a trust deal's id is its TrustDeal's, which the solver
   * does not know its deals by, so it is found by the leaf DealsOpened named (the solver keeps
   * each routed deal's), among the deals whose TrustDeal, at the nonce its provider signed, is this one.
   */
  async function trustDealRecord(deal: DealActivity, leaf: Hash): Promise<DealRecord | undefined> {
    const { deals } = await solver.listDeals({ query: { trustLeaf: leaf } });
    // REJECT: the solver's terms at that nonce must hash to the TrustDeal id the chain opened.
    return deals.find((r) => r.trustNonce !== undefined && trustDealId(chain.addresses, trustDealOf(r.deal, r.trustNonce)) === deal.id);
  }

  async function ask(deal: DealActivity): Promise<DealDetails | undefined> {
    const record = deal.trust ? await trustDealRecord(deal, deal.trust.leaf) : await dealRecord(deal);
    if (!record) return undefined;
    // REJECT: and for the same parties.
    if (record.deal.provider !== deal.provider || record.deal.jobCreator !== deal.jobCreator) return undefined;
    const job = await solver.getJobOffer({ params: { id: record.jobOfferId } });
    // REJECT: the job offer (and so its module) must be the one whose digest the deal's terms carry.
    if (hashRecord(chain.domain, "JobOffer", job.offer) !== record.deal.jobOffer) return undefined;
    const { module, cpu, memoryMb, gpu, vramMb } = job.offer;
    return { module, resources: { cpu, memoryMb, gpu, vramMb } };
  }

  return {
    of(deal) {
      let hit = known.get(deal.id);
      if (!hit) {
        hit = ask(deal);
        known.set(deal.id, hit);
        hit.catch(() => known.delete(deal.id));
      }
      return hit.catch(() => undefined);
    },
  };
}
