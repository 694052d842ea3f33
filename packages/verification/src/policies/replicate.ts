// replicate(k): k distinct providers run the job and their results are compared with the
// module's comparator; the majority is paid and a minority slashed. With no majority (always the
// case for k = 2 when the two differ) a mediator re-runs the job and rules on every replica. The
// job creator pays all k providers, so the extra cost is (k - 1) prices; while the group runs it
// also holds one mediation fee per replica in reserve (at most one is ever spent, by a loser).
import { Policy, formatLily } from "@lily/protocol";
import { badPolicy, checkJobs, type PolicyStrategy } from "./strategy.ts";

/** The replica count's bounds, as the contract enforces them. */
export const MIN_REPLICAS = 2n;
export const MAX_REPLICAS = 16n;

function replicasReason(k: bigint): string | undefined {
  if (k < MIN_REPLICAS || k > MAX_REPLICAS) return `replicate needs between 2 and 16 providers, got ${k}`;
  return undefined;
}

export const replicate: PolicyStrategy = {
  name: "replicate",
  id: Policy.replicate,
  needsMediators: true,
  defaultParam: 3n,

  parse(arg) {
    if (arg === "") return 3n;
    if (!/^\d{1,4}$/.test(arg.trim())) throw badPolicy(`the replica count must be a whole number, got "${arg}"`, "e.g. --policy replicate:3");
    const k = BigInt(arg.trim());
    // REJECT: one replica checks nothing; more than 16 the contract will not settle in one call
    const reason = replicasReason(k);
    if (reason) throw badPolicy(reason, "e.g. --policy replicate:3");
    return k;
  },

  format: (param) => `replicate:${param}`,

  describe: (param) => `run by ${param} distinct providers; the majority result is paid, a minority slashed`,

  dealsPerJob: (param) => Number(param),

  check({ param, collateral, mediationFee }) {
    const reason = replicasReason(param);
    if (reason) return reason;
    // REJECT: a replica proven wrong by mediation must be able to pay the mediator from its collateral
    if (collateral < mediationFee) return `collateral ${formatLily(collateral)} is below the mediation fee ${formatLily(mediationFee)}`;
    return undefined;
  },

  quote({ param, price, mediationFee, jobs }) {
    checkJobs(jobs);
    const others = param - 1n;
    return {
      extraCost: others * price,
      lockedExtra: others * price + param * mediationFee,
      perJobCatch: 1,
      catchProbability: 1,
      notes: [
        `you pay ${param} providers for each job`,
        "one mediation fee per replica is held in reserve until the group settles",
        param === 2n
          ? "two different results go to a mediator, who re-runs the job and slashes the wrong one"
          : `a result that differs from the majority of ${param} is slashed; with no majority a mediator decides`,
        "a cheat is always caught if the other providers are honest; providers that collude on one wrong result can outvote the rest",
      ],
    };
  },
};
