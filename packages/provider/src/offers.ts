// The provider's resource offers. Each one it signs is stored in its database before it is posted,
// so a restarted provider still recognises a proposal made against an offer it posted earlier.
// On start and on each pass it makes sure the solver holds an active offer of its current terms:
// a solver that never received it or restarted without it gets the same signed offer again; one
// that deactivated it (for instance for not signing in time), or an offer half-way to expiry or
// of old terms, is replaced by a new one signed with a higher nonce.
import type { Hex, LocalAccount } from "viem";
import type { Client, SolverRoutes } from "@lily/api";
import { hashRecord, isLilyError, signRecord, type Domain, type ResourceOffer } from "@lily/protocol";
import type { Logger } from "@lily/node-kit";
import type { ProviderDb, StoredOffer } from "./db.ts";
import type { ProviderOptions } from "./options.ts";
import { RESOURCE_KEYS } from "./resources.ts";

export type OfferTerms = Pick<ProviderOptions, "resources" | "price" | "collateral" | "modules" | "mediators" | "offerTtlSeconds">;

export interface OfferContext {
  terms: OfferTerms;
  account: LocalAccount;
  domain: Domain;
  solver: Client<SolverRoutes>;
  db: ProviderDb;
  clock: () => number;
  logger: Logger;
}

/**
 * The least time between two new offers made because the solver deactivated the last one: a
 * solver that keeps dropping offers must not make the provider sign and store one on every pass.
 */
const REPOST_MIN_MS = 30_000;

export class OfferKeeper {
  private readonly ctx: OfferContext;
  private lastPostMs = -Infinity;

  constructor(ctx: OfferContext) {
    this.ctx = ctx;
  }

  /** Every offer this provider made, by id (lower-case), as checkProposal looks them up. */
  byId(): Map<string, ResourceOffer> {
    return new Map(this.ctx.db.offers().map((o) => [o.id.toLowerCase(), o.offer]));
  }

  /** The id of the solver's active offer of this provider's current terms, posting a new one if needed. */
  async ensure(): Promise<Hex> {
    const latest = this.ctx.db.offers().at(-1);
    const why = await this.whyRepost(latest);
    if (!why) return latest!.id;
    // A solver that never received it (or lost it) takes the same signed offer again.
    if (why === "unknown to the solver") return this.send(latest!, why);
    if (why === "deactivated by the solver" && this.ctx.clock() - this.lastPostMs < REPOST_MIN_MS) return latest!.id;
    return this.post(latest, why);
  }

  private async whyRepost(latest: StoredOffer | undefined): Promise<string | undefined> {
    if (!latest) return "no offer yet";
    if (!sameTerms(latest.offer, this.ctx.terms)) return "terms changed";
    const left = Number(latest.offer.expiresAt) - this.ctx.clock() / 1000;
    if (left < this.ctx.terms.offerTtlSeconds / 2) return "about to expire";
    try {
      const record = await this.ctx.solver.getResourceOffer({ params: { id: latest.id } });
      return record.active ? undefined : "deactivated by the solver";
    } catch (e) {
      if (isLilyError(e, "NOT_FOUND")) return "unknown to the solver";
      throw e;
    }
  }

  private async post(latest: StoredOffer | undefined, why: string): Promise<Hex> {
    const { terms, account, domain } = this.ctx;
    const now = this.ctx.clock();
    const offer: ResourceOffer = {
      provider: account.address,
      ...terms.resources,
      price: terms.price,
      collateral: terms.collateral,
      modules: terms.modules,
      mediators: terms.mediators,
      expiresAt: BigInt(Math.floor(now / 1000) + terms.offerTtlSeconds),
      // The solver only replaces an offer with one of a higher nonce (no replay of old offers).
      nonce: latest && latest.offer.nonce >= BigInt(now) ? latest.offer.nonce + 1n : BigInt(now),
    };
    const signature = await signRecord(account, domain, "ResourceOffer", offer);
    const stored = { id: hashRecord(domain, "ResourceOffer", offer), offer, signature };
    this.ctx.db.putOffer(stored);
    this.lastPostMs = now;
    return this.send(stored, why);
  }

  private async send(o: StoredOffer, why: string): Promise<Hex> {
    await this.ctx.solver.postResourceOffer({ body: { offer: o.offer, signature: o.signature } });
    this.ctx.logger.info("resource offer posted", { offer: o.id, why, price: o.offer.price, modules: o.offer.modules.length });
    return o.id;
  }
}

function sameTerms(o: ResourceOffer, t: OfferTerms): boolean {
  const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.some((y) => y.toLowerCase() === x.toLowerCase()));
  return (
    RESOURCE_KEYS.every((k) => o[k] === t.resources[k]) &&
    o.price === t.price &&
    o.collateral === t.collateral &&
    sameSet(o.modules, t.modules) &&
    sameSet(o.mediators, t.mediators)
  );
}
