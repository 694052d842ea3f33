// A model this provider serves under leases: its terms (the model offer's prices and collateral,
// the registry's royalty) and the runner that generates its answers.
import type { ModelRunner } from "@lily/executor";
import type { ModelTerms } from "./checkLeaseProposal.ts";

export interface ServedModel extends ModelTerms {
  /** What people call it: name@version, or the manifest CID. */
  label: string;
  runner: ModelRunner;
}
