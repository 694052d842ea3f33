// Everything a job creator's calls share: its options, clients for the chain, the solver and the
// store, the EIP-712 domain, and its journal.
import type { Hex } from "viem";
import { solverSet, type Client, type SolverRoutes } from "@lily/api";
import { addressesOf, createLilyClient, type LilyClient } from "@lily/chain";
import { signRecord, type Deal, type Domain } from "@lily/protocol";
import { StoreClient } from "@lily/store";
import type { JobCreatorOptions, SubmitDefaults } from "./options.ts";
import { defaultSubmit } from "./options.ts";
import { memoryJournal, type JobJournal } from "./journal.ts";

export interface JobCreatorContext {
  opts: JobCreatorOptions;
  submit: SubmitDefaults;
  domain: Domain;
  chain: LilyClient;
  solver: Client<SolverRoutes>;
  store: StoreClient;
  journal: JobJournal;
  signDeal(deal: Deal): Promise<Hex>;
}

export function createContext(opts: JobCreatorOptions, deps: { journal?: JobJournal; submit?: Partial<SubmitDefaults> } = {}): JobCreatorContext {
  const domain: Domain = { chainId: opts.chainId, verifyingContract: opts.deals };
  return {
    opts,
    submit: { ...defaultSubmit, ...deps.submit },
    domain,
    chain: createLilyClient({
      rpcUrl: opts.rpcUrl,
      account: opts.account,
      addresses: addressesOf(opts),
    }),
    solver: solverSet(opts.solverUrls?.length ? opts.solverUrls : [opts.solverUrl]),
    store: new StoreClient(opts.storeUrl),
    journal: deps.journal ?? memoryJournal(),
    signDeal: (deal) => signRecord(opts.account, domain, "Deal", deal),
  };
}
