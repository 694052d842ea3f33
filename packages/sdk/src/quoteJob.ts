// quoteJob: before paying, what a verification policy adds to the price and how likely it is to
// catch a provider that cheats, from the policy's parameters and the terms of the provider the
// solver would most likely pick (the cheapest that allows the module within the budget).
// `quoteFromOffers` is the pure part: offers in, quote out.
import { formatUnits } from "viem";
import { LilyError, type ResourceOffer } from "@lily/protocol";
import { parsePolicy, type Quote } from "@lily/verification";
import { resolveModule } from "./resolveModule.ts";
import type { JobCreatorContext } from "./context.ts";

export interface JobQuote extends Quote {
  policy: string;
  describe: string;
  price: bigint;
  collateral: bigint;
  mediationFee: bigint;
  provider: string;
  jobs: number;
  /** Why the contracts would refuse these terms under this policy, if they would. */
  unsafe?: string;
}

export interface QuoteJobParams {
  module: string;
  policy: string;
  maxPrice: bigint;
  mediationFee: bigint;
  /** n: the catch probability is for a provider cheating on every one of n jobs. */
  jobs: number;
}

export async function quoteJob(ctx: JobCreatorContext, p: QuoteJobParams): Promise<JobQuote> {
  parsePolicy(p.policy); // a malformed policy is named before anything is fetched
  const { cid } = await resolveModule(p.module, ctx);
  const { offers } = await ctx.solver.listResourceOffers({});
  return quoteFromOffers(
    { ...p, moduleCid: cid },
    offers.map((o) => o.offer),
  );
}

/** The quote against the cheapest offer that allows the module within maxPrice (ties: the larger collateral). */
export function quoteFromOffers(p: QuoteJobParams & { moduleCid: string }, offers: readonly ResourceOffer[]): JobQuote {
  const { strategy, param } = parsePolicy(p.policy);
  const fitting = offers
    .filter((o) => o.modules.includes(p.moduleCid) && o.price <= p.maxPrice)
    .sort((a, b) => (a.price !== b.price ? (a.price < b.price ? -1 : 1) : a.collateral > b.collateral ? -1 : a.collateral < b.collateral ? 1 : 0));
  const best = fitting[0];
  // REJECT: nothing to quote against: no provider offers the module within the budget
  if (!best)
    throw new LilyError({ code: "NO_MATCH", field: "--max-price", message: `no provider offers ${p.module} for at most ${formatUnits(p.maxPrice, 18)} LILY` });
  const terms = { price: best.price, collateral: best.collateral, mediationFee: p.mediationFee, param };
  const q = strategy.quote({ ...terms, jobs: p.jobs });
  const unsafe = strategy.check(terms);
  return {
    ...q,
    policy: strategy.format(param),
    describe: strategy.describe(param),
    ...terms,
    provider: best.provider,
    jobs: p.jobs,
    ...(unsafe && { unsafe }),
  };
}
