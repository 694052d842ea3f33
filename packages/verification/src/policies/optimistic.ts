// optimistic(window): the result stands unless the job creator challenges it within the window;
// a challenge sends the job to a mediator, whose ruling makes the loser pay the mediation fee
// and slashes a cheating provider. An honest job creator pays nothing extra: the fee reserve is
// locked during the window and returned. A cheat is caught exactly when the job creator checks.
import { Policy, formatLily } from "@lily/protocol";
import { badPolicy, caughtWithin, checkJobs, type PolicyStrategy } from "./strategy.ts";

/** The challenge window's bounds, in seconds, as the contract enforces them. */
export const MIN_WINDOW_SECONDS = 1n;
export const MAX_WINDOW_SECONDS = 30n * 24n * 3600n;
const DEFAULT_WINDOW_SECONDS = 3600n;

const UNIT_SECONDS: Record<string, bigint> = { s: 1n, m: 60n, h: 3600n, d: 86_400n };

/** "90s", "15m", "2h", "1d" or bare seconds ("90") -> seconds. */
function parseDuration(arg: string): bigint {
  const m = /^(\d{1,12})\s*([smhd]?)$/.exec(arg.trim());
  if (!m) throw badPolicy(`the challenge window must be a duration like 90s, 15m, 2h or 1d, got "${arg}"`, "e.g. --policy optimistic:10m");
  return BigInt(m[1]!) * UNIT_SECONDS[m[2] || "s"]!;
}

function formatDuration(seconds: bigint): string {
  for (const unit of ["d", "h", "m"] as const) {
    const size = UNIT_SECONDS[unit]!;
    if (seconds >= size && seconds % size === 0n) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

function windowReason(window: bigint): string | undefined {
  if (window < MIN_WINDOW_SECONDS || window > MAX_WINDOW_SECONDS) {
    return `the challenge window must be between 1s and 30d, got ${window}s`;
  }
  return undefined;
}

export const optimistic: PolicyStrategy = {
  name: "optimistic",
  id: Policy.optimistic,
  needsMediators: true,
  defaultParam: DEFAULT_WINDOW_SECONDS,

  parse(arg) {
    if (arg === "") return DEFAULT_WINDOW_SECONDS;
    const window = parseDuration(arg);
    // REJECT: a window the contract would refuse (too short to react, or funds frozen too long)
    const reason = windowReason(window);
    if (reason) throw badPolicy(reason, "e.g. --policy optimistic:10m");
    return window;
  },

  format: (param) => `optimistic:${formatDuration(param)}`,

  describe: (param) => `pay out unless challenged within ${formatDuration(param)} of the result; a challenge goes to a mediator`,

  dealsPerJob: () => 1,

  check({ param, collateral, mediationFee }) {
    const reason = windowReason(param);
    if (reason) return reason;
    // REJECT: a provider proven wrong must be able to pay the mediator from its collateral
    if (collateral < mediationFee) return `collateral ${formatLily(collateral)} is below the mediation fee ${formatLily(mediationFee)}`;
    return undefined;
  },

  quote({ param, mediationFee, jobs, checkRate = 1 }) {
    checkJobs(jobs);
    if (!(checkRate >= 0 && checkRate <= 1)) throw badPolicy(`the check rate must be between 0 and 1, got ${checkRate}`);
    return {
      extraCost: 0n,
      lockedExtra: mediationFee,
      perJobCatch: checkRate,
      catchProbability: caughtWithin(checkRate, jobs),
      notes: [
        `the provider is paid ${formatDuration(param)} after it commits, unless you challenge`,
        "the mediation fee is held while the window is open and returned if you do not challenge",
        "challenging a correct result costs you the mediation fee",
        `a cheat is caught only if you check the result: assumed for ${Math.round(checkRate * 100)}% of results`,
      ],
    };
  },
};
