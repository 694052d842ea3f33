// quoteJob: before paying, what a verification policy adds to the price and how likely it is to
// catch a provider that cheats, from the policy's parameters and the terms of the provider the
// solver would most likely pick (the cheapest that allows the module within the budget).
import { formatUnits } from "viem";
import { LilyError } from "@lily/protocol";
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
  const { strategy, param } = parsePolicy(p.policy);
  const { cid } = await resolveModule(p.module, ctx.opts.modules, ctx.store);
  const { offers } = await ctx.solver.listResourceOffers({});
  const fitting = offers.filter((o) => o.offer.modules.includes(cid) && o.offer.price <= p.maxPrice).sort((a, b) => (a.offer.price < b.offer.price ? -1 : 1));
  const best = fitting[0];
  if (!best) throw new LilyError({ code: "NO_MATCH", field: "--max-price", message: `no provider offers ${p.module} for at most ${formatUnits(p.maxPrice, 18)} LILY` });
  const terms = { price: best.offer.price, collateral: best.offer.collateral, mediationFee: p.mediationFee, param };
  const q = strategy.quote({ ...terms, jobs: p.jobs });
  return { ...q, policy: strategy.format(param), describe: strategy.describe(param), ...terms, provider: best.offer.provider, jobs: p.jobs, unsafe: strategy.check(terms) };
}
