// A model this provider serves under leases: its terms (the model offer's prices and collateral,
// the registry's royalty) and the runner that generates its answers.
import type { ModelRunner } from "@lily/executor";
import type { ModelTerms } from "./checkLeaseProposal.ts";

export interface ServedModel extends ModelTerms {
  /** What people call it: name@version, or the manifest CID. */
  label: string;
  runner: ModelRunner;
  /**
   * Starts loading the model ahead of its first request, once a lease for it is countersigned (the
   * payer still has to open it on chain): a GGUF is loaded on first use (lazyRunner.ts), and this
   * keeps that load off the first answer's time. Absent when there is nothing to load.
   */
  prepare?(): void;
}
