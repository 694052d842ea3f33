// `lily run --quote`: before paying, what a verification policy adds to the price and how likely
// it is to catch a provider that cheats, computed from the policy's parameters and the terms of
// the provider the solver would most likely pick (the cheapest that allows the module).
import { formatUnits } from "viem";
import { LilyError } from "@lily/protocol";
import { parsePolicy, type Quote } from "@lily/verification";
import { resolveModule, type JobCreator } from "@lily/sdk";
import type { Output } from "./output.ts";

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

export async function quoteJob(jc: JobCreator, p: { module: string; policy: string; maxPrice: bigint; mediationFee: bigint; jobs: number }): Promise<JobQuote> {
  const { strategy, param } = parsePolicy(p.policy);
  const { cid } = await resolveModule(p.module, jc.context.opts.modules, jc.context.store);
  const { offers } = await jc.context.solver.listResourceOffers({});
  const fitting = offers.filter((o) => o.offer.modules.includes(cid) && o.offer.price <= p.maxPrice).sort((a, b) => (a.offer.price < b.offer.price ? -1 : 1));
  const best = fitting[0];
  if (!best) throw new LilyError({ code: "NO_MATCH", field: "--max-price", message: `no provider offers ${p.module} for at most ${formatUnits(p.maxPrice, 18)} LILY` });
  const terms = { price: best.offer.price, collateral: best.offer.collateral, mediationFee: p.mediationFee, param };
  const q = strategy.quote({ ...terms, jobs: p.jobs });
  return { ...q, policy: strategy.format(param), describe: strategy.describe(param), ...terms, provider: best.offer.provider, jobs: p.jobs, unsafe: strategy.check(terms) };
}

export function printQuote(out: Output, q: JobQuote): void {
  const lily = (v: bigint) => `${formatUnits(v, 18)} LILY`;
  const pct = (x: number) => `${(x * 100).toFixed(x > 0 && x < 0.001 ? 4 : 1)}%`;
  out.line(`policy             ${q.policy}: ${q.describe}`);
  out.line(`provider           ${q.provider} (price ${lily(q.price)}, collateral ${lily(q.collateral)})`);
  out.line(`price              ${lily(q.price)} per job`);
  out.line(`extra cost         ${lily(q.extraCost)} per job (expected, over trust)`);
  out.line(`locked extra       ${lily(q.lockedExtra)} while the job runs`);
  out.line(`catch, one job     ${pct(q.perJobCatch)}`);
  out.line(`catch, ${String(q.jobs).padEnd(4)} jobs    ${pct(q.catchProbability)} (a provider cheating on every job is caught at least once)`);
  if (q.unsafe) out.line(`unsafe             ${q.unsafe}: the contracts would refuse this deal`);
  for (const n of q.notes) out.line(`note               ${n}`);
}
