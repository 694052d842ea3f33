// `lily run --quote`: print the SDK's quote for a job under a policy.
import type { JobQuote } from "@lily/sdk";
import type { Output } from "./output.ts";
import { formatLily as lily } from "@lily/protocol";

export function printQuote(out: Output, q: JobQuote): void {
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
