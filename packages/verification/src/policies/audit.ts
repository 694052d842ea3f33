// audit(p): after the result is committed, a draw from randomness neither party knew when it
// signed sends the job to a mediator with probability p (in parts per million). A cheat is caught
// with probability p per job; cheating is unprofitable when the expected slash covers the price
// it would steal: p x collateral >= price. An honest job creator pays the mediation fee whenever
// an audited provider turns out right, so its expected extra cost is p x mediationFee.
import { PPM, Policy, formatLily } from "@lily/protocol";
import { badPolicy, caughtWithin, checkJobs, type PolicyStrategy } from "./strategy.ts";

const HINT = "e.g. --policy audit:10% (or audit:0.1, or audit:100000ppm)";
const DEFAULT_PPM = 100_000n;

/** An exact decimal ("0.125", "12.5") times 10^scale, or undefined if it has more digits. */
function scaleDecimal(text: string, scale: number): bigint | undefined {
  const m = /^(\d{1,7})(?:\.(\d{1,12}))?$/.exec(text);
  if (!m) return undefined;
  const fraction = m[2] ?? "";
  if (fraction.replace(/0+$/, "").length > scale) return undefined;
  return BigInt(m[1]!) * 10n ** BigInt(scale) + BigInt(fraction.padEnd(scale, "0").slice(0, scale) || "0");
}

/** "10%", "0.1", "100000ppm" -> parts per million. Exact: no floating point. */
function parseProbability(arg: string): bigint {
  const text = arg.trim();
  let ppm: bigint | undefined;
  if (text.endsWith("ppm")) ppm = scaleDecimal(text.slice(0, -3).trim(), 0);
  else if (text.endsWith("%")) ppm = scaleDecimal(text.slice(0, -1).trim(), 4);
  else ppm = scaleDecimal(text, 6);
  if (ppm === undefined) throw badPolicy(`the audit probability must be a fraction, a percentage or ppm with at most 1 ppm precision, got "${arg}"`, HINT);
  return ppm;
}

function formatPercent(ppm: bigint): string {
  const whole = ppm / 10_000n;
  const rest = (ppm % 10_000n).toString().padStart(4, "0").replace(/0+$/, "");
  return rest ? `${whole}.${rest}%` : `${whole}%`;
}

function probabilityReason(ppm: bigint): string | undefined {
  if (ppm <= 0n || ppm > PPM) return `the audit probability must be above 0 and at most 100%, got ${formatPercent(ppm)}`;
  return undefined;
}

export const audit: PolicyStrategy = {
  name: "audit",
  id: Policy.audit,
  needsMediators: true,
  defaultParam: DEFAULT_PPM,

  parse(arg) {
    if (arg === "") return DEFAULT_PPM;
    const ppm = parseProbability(arg);
    // REJECT: p = 0 never audits (it is trust); p > 1 is not a probability
    const reason = probabilityReason(ppm);
    if (reason) throw badPolicy(reason, HINT);
    return ppm;
  },

  format: (param) => `audit:${formatPercent(param)}`,

  describe: (param) => `re-run by a mediator with probability ${formatPercent(param)}, drawn after the result is committed`,

  dealsPerJob: () => 1,

  check({ param, price, collateral, mediationFee }) {
    const reason = probabilityReason(param);
    if (reason) return reason;
    // REJECT: a provider proven wrong must be able to pay the mediator from its collateral
    if (collateral < mediationFee) return `collateral ${formatLily(collateral)} is below the mediation fee ${formatLily(mediationFee)}`;
    // REJECT: cheating must not pay: the expected slash p x collateral must cover the price
    if (param * collateral < price * PPM) {
      return `cheating would pay: ${formatPercent(param)} x collateral ${formatLily(collateral)} is below the price ${formatLily(price)}; raise the collateral to at least ${formatLily((price * PPM + param - 1n) / param)} or the probability`;
    }
    return undefined;
  },

  quote({ param, mediationFee, jobs }) {
    checkJobs(jobs);
    const p = Number(param) / Number(PPM);
    return {
      // Rounded up: an expectation the job creator can budget on.
      extraCost: (param * mediationFee + PPM - 1n) / PPM,
      lockedExtra: mediationFee,
      perJobCatch: p,
      catchProbability: caughtWithin(p, jobs),
      notes: [
        `${formatPercent(param)} of jobs are re-run by a mediator; the draw happens after the result is committed`,
        "when an audited provider was right you pay the mediation fee; when it was wrong it pays, and is slashed",
        "the mediation fee is held until the draw and returned when no audit happens",
      ],
    };
  },
};
