// trust: the committed result is final and the provider is paid at once. Nothing checks it, so
// nothing catches a cheat; it costs nothing extra.
import { Policy } from "@lily/protocol";
import { badPolicy, checkJobs, type PolicyStrategy } from "./strategy.ts";

export const trust: PolicyStrategy = {
  name: "trust",
  id: Policy.trust,
  needsMediators: false,
  defaultParam: 0n,

  parse(arg) {
    // REJECT: trust takes no parameter; a stray one is more likely a typo than an intent
    if (arg !== "") throw badPolicy(`trust takes no parameter, got "trust:${arg}"`, "use --policy trust");
    return 0n;
  },

  format: () => "trust",

  describe: () => "pay out as soon as the result is committed; results are not checked",

  dealsPerJob: () => 1,

  check: () => undefined,

  quote({ jobs }) {
    checkJobs(jobs);
    return {
      extraCost: 0n,
      lockedExtra: 0n,
      catchProbability: 0,
      perJobCatch: 0,
      notes: ["the result is final once committed: a wrong result is paid and never caught"],
    };
  },
};
