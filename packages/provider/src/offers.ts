// The provider's resource offers: one per distinct price of its plan (pricing.ts), each with its
// whole capacity. Each one it signs is stored in its database before it is posted, so a restarted
// provider still recognises a proposal made against an offer it posted earlier. On start and
// when its schedule says (offerSchedule.ts) it makes sure the solver holds an active offer of each
// group's current terms: a solver that never received it or restarted without it gets the same
// signed offer again; one that deactivated it (for instance for not signing in time), or an offer
// half-way to expiry or of old terms, is replaced by a new one signed with a higher nonce.
import type { Hex, LocalAccount } from "viem";
import type { Client, SolverRoutes } from "@lily/api";
import { hashRecord, isLilyError, signRecord, type Domain, type ResourceOffer } from "@lily/protocol";
import type { Logger } from "@lily/node-kit";
import type { ProviderDb, StoredOffer } from "./db.ts";
import type { ProviderOptions } from "./options.ts";
import type { OfferGroup } from "./pricing.ts";
import { RESOURCE_KEYS } from "./resources.ts";

/** What every offer of this provider shares. */
export type OfferTerms = Pick<ProviderOptions, "resources" | "collateral" | "mediators" | "offerTtlSeconds">;

export interface OfferContext {
  terms: OfferTerms;
  /** The groups to offer (a price and its modules each); may fail (a store that did not answer) and is asked again. */
  plan: () => Promise<readonly OfferGroup[]>;
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
  /** When each group (by its modules) was last posted anew. */
  private readonly lastPostMs = new Map<string, number>();
  /** When the first of the offers the last ensure() returned is half-way to expiry (ms). */
  private renewAtMs = Number.NEGATIVE_INFINITY;

  constructor(ctx: OfferContext) {
    this.ctx = ctx;
  }

  /** Every offer this provider made, by id (lower-case), as checkProposal looks them up. */
  byId(): Map<string, ResourceOffer> {
    return new Map(this.ctx.db.offers().map((o) => [o.id.toLowerCase(), o.offer]));
  }

  /** The ids of the solver's active offers of this provider's current terms, one per group, posting what is needed. */
  async ensure(): Promise<Hex[]> {
    const groups = await this.ctx.plan();
    if (groups.length === 0) this.ctx.logger.warn("no module to offer: no resource offer posted");
    const ids: Hex[] = [];
    // One after the other: the solver takes a provider's offers only in rising nonce order.
    for (const g of groups) ids.push(await this.ensureGroup(g));
    const offers = this.byId();
    const halfLife = this.ctx.terms.offerTtlSeconds / 2;
    this.renewAtMs = Math.min(...ids.map((id) => (Number(offers.get(id.toLowerCase())!.expiresAt) - halfLife) * 1000));
    return ids;
  }

  /**
   * From when ensure() replaces an offer it last returned as about to expire (ms; never with none,
   * -Infinity before the first ensure()): no event announces that time, the provider's clock does.
   */
  renewAt(): number {
    return this.renewAtMs;
  }

  private async ensureGroup(group: OfferGroup): Promise<Hex> {
    const stored = this.ctx.db.offers();
    const latest = stored.filter((o) => sameTerms(o.offer, this.ctx.terms, group)).at(-1);
    const why = await this.whyRepost(latest);
    if (!why) return latest!.id;
    // A solver that never received it (or lost it) takes the same signed offer again.
    if (why === "unknown to the solver") {
      try {
        return await this.send(latest!, why);
      } catch (e) {
        // Offers of other groups went out since it was signed: it is too old a nonce now.
        if (!isLilyError(e, "CONFLICT")) throw e;
      }
    }
    const key = group.modules.join(",");
    if (why === "deactivated by the solver" && this.ctx.clock() - (this.lastPostMs.get(key) ?? -Infinity) < REPOST_MIN_MS) return latest!.id;
    this.lastPostMs.set(key, this.ctx.clock());
    return this.post(group, stored.at(-1), why);
  }

  private async whyRepost(latest: StoredOffer | undefined): Promise<string | undefined> {
    if (!latest) return "no offer of these terms yet";
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

  /** Sign, store and send a new offer for `group`, its nonce above every offer made before (`newest`). */
  private async post(group: OfferGroup, newest: StoredOffer | undefined, why: string): Promise<Hex> {
    const { terms, account, domain } = this.ctx;
    const now = this.ctx.clock();
    const offer: ResourceOffer = {
      provider: account.address,
      ...terms.resources,
      price: group.price,
      collateral: terms.collateral,
      modules: group.modules,
      mediators: terms.mediators,
      expiresAt: BigInt(Math.floor(now / 1000) + terms.offerTtlSeconds),
      // The solver only takes an offer of a higher nonce than the provider's last (no replay of old offers).
      nonce: newest && newest.offer.nonce >= BigInt(now) ? newest.offer.nonce + 1n : BigInt(now),
    };
    const signature = await signRecord(account, domain, "ResourceOffer", offer);
    const stored = { id: hashRecord(domain, "ResourceOffer", offer), offer, signature };
    this.ctx.db.putOffer(stored);
    return this.send(stored, why);
  }

  private async send(o: StoredOffer, why: string): Promise<Hex> {
    await this.ctx.solver.postResourceOffer({ body: { offer: o.offer, signature: o.signature } });
    this.ctx.logger.info("resource offer posted", { offer: o.id, why, price: o.offer.price, modules: o.offer.modules.length });
    return o.id;
  }
}

function sameTerms(o: ResourceOffer, t: OfferTerms, g: OfferGroup): boolean {
  const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.some((y) => y.toLowerCase() === x.toLowerCase()));
  return (
    RESOURCE_KEYS.every((k) => o[k] === t.resources[k]) &&
    o.price === g.price &&
    o.collateral === t.collateral &&
    sameSet(o.modules, g.modules) &&
    sameSet(o.mediators, t.mediators)
  );
}
