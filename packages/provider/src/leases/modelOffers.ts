// The provider's model offers: for each model it serves, a signed ModelOffer (its prices, the
// collateral it stakes per lease, this lease server's URL, the mediators it accepts) posted to the
// solver so gateways find it, and signed anew before it expires. Nonces are the signing time in
// milliseconds (and above the last one), so a restarted provider's offers replace its older ones.
import type { Address, LocalAccount } from "viem";
import { signRecord, type Domain, type ModelOffer, type SignedModelOffer } from "@lily/protocol";
import type { Logger } from "@lily/node-kit";
import type { ServedModel } from "./servedModel.ts";

/** Where offers go: the solver's postModelOffer (modelOfferRoutes). */
export type PostModelOffer = (signed: SignedModelOffer) => Promise<unknown>;

export interface ModelOfferTerms {
  /** This lease server's base URL, as gateways reach it. */
  endpoint: string;
  mediators: readonly Address[];
  offerTtlSeconds: number;
}

/** Least time between two attempts to post an offer the solver did not take. */
const RETRY_MS = 5000;

export function createModelOfferKeeper(
  terms: ModelOfferTerms,
  deps: { account: LocalAccount; domain: Domain; models: readonly ServedModel[]; post: PostModelOffer; clock: () => number; logger: Logger },
) {
  let lastNonce = 0n;
  /** Per model: when its posted offer expires (ms), or when it may be tried again after a failure. */
  const due = new Map<string, number>();
  const current = new Map<string, SignedModelOffer>();

  async function postOne(model: ServedModel): Promise<void> {
    const now = deps.clock();
    lastNonce = BigInt(now) > lastNonce ? BigInt(now) : lastNonce + 1n;
    const offer: ModelOffer = {
      provider: deps.account.address,
      model: model.cid,
      inputPricePer1k: model.inputPricePer1k,
      outputPricePer1k: model.outputPricePer1k,
      collateral: model.collateral,
      endpoint: terms.endpoint,
      mediators: [...terms.mediators],
      expiresAt: BigInt(Math.floor(now / 1000) + terms.offerTtlSeconds),
      nonce: lastNonce,
    };
    const signed = { offer, signature: await signRecord(deps.account, deps.domain, "ModelOffer", offer) };
    try {
      await deps.post(signed);
    } catch (e) {
      due.set(model.cid, now + RETRY_MS);
      deps.logger.warn("model offer not posted; trying again shortly", { model: model.label, err: e });
      return;
    }
    current.set(model.cid, signed);
    // Signed anew once half its life has passed.
    due.set(model.cid, now + (terms.offerTtlSeconds * 1000) / 2);
    deps.logger.info("model offer posted", { model: model.label, cid: model.cid, endpoint: terms.endpoint, expiresAt: offer.expiresAt });
  }

  return {
    /** Post every offer that is missing or half-way to expiry. */
    async refresh(): Promise<void> {
      for (const model of deps.models) {
        if ((due.get(model.cid) ?? 0) <= deps.clock()) await postOne(model);
      }
    },
    /** The offers the solver took, by model CID. */
    offers(): ReadonlyMap<string, SignedModelOffer> {
      return current;
    },
  };
}
