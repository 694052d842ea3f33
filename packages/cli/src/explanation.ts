// `lily run --dry-run`: print the SDK's explanation of how the solver would match a job now:
// each provider's rejection (the filter and why) or its price, the clearing price, whether the
// job can match at all, what would make it match, and whether the deposit covers it.
import type { JobExplanationReport } from "@lily/sdk";
import type { Output } from "./output.ts";
import { formatLily as lily } from "@lily/protocol";

export function printExplanation(out: Output, module: string, policy: string, r: JobExplanationReport): void {
  out.line(`dry run: nothing was signed, posted or locked`);
  out.line(
    `job         ${module} under ${policy}, max price ${lily(r.offer.maxPrice)}${r.offer.mediationFee ? `, mediation fee ${lily(r.offer.mediationFee)}` : ""}`,
  );
  const whole = r.rejections["*"];
  if (whole) out.line(`job         ${whole}`);
  for (const c of r.candidates) out.line(`provider    ${c.provider}  would take it at ${lily(c.price)} (collateral ${lily(c.collateral)})`);
  for (const [provider, why] of Object.entries(r.rejections)) if (provider !== "*") out.line(`provider    ${provider}  rejects it: ${why}`);
  if (r.candidates.length === 0 && Object.keys(r.rejections).length === 0) out.line("provider    none: no provider offers resources");
  out.line(`clearing    ${r.clearingPrice === undefined ? "none: every provider refuses it for more than its price" : lily(r.clearingPrice)}`);
  out.line(
    `matchable   ${r.matchable ? (r.candidates.length ? "yes: the solver would propose a deal now" : "yes, once capacity frees up") : "no: every provider refuses it for a reason waiting will not change"}`,
  );
  if (r.hints.length) out.line(`would match ${r.hints.join(" ")}`);
  const short = r.deposit.balance < r.deposit.needed;
  out.line(`deposit     ${lily(r.deposit.balance)} free, the job needs ${lily(r.deposit.needed)}${short ? ": deposit more with `lily deposit`" : ""}`);
}
