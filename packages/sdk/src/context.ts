// Everything a job creator's calls share: its options, clients for the chain, the solver and the
// store, the EIP-712 domain, and its journal. Deals are signed in the form their contract takes
// (dealRoute: a trust deal on a network with LilyTrustDeals as its TrustDeal, under its provider's nonce),
// so signing needs the deal's id and that nonce.
import type { Hex } from "viem";
import { solverSet, type Client, type SolverRoutes } from "@lily/api";
import { addressesOf, createLilyClient, signDealFor, type LilyClient, type RoutedDeal } from "@lily/chain";
import type { Domain, RegistryEntry, ResourceOfferRecord } from "@lily/protocol";
import { StoreClient } from "@lily/store";
import type { JobCreatorOptions, SubmitDefaults } from "./options.ts";
import { defaultSubmit } from "./options.ts";
import { memoryJournal, type JobJournal } from "./journal.ts";
import { Recent } from "./recent.ts";

export interface JobCreatorContext {
  opts: JobCreatorOptions;
  submit: SubmitDefaults;
  domain: Domain;
  chain: LilyClient;
  solver: Client<SolverRoutes>;
  store: StoreClient;
  journal: JobJournal;
  /** The job creator's signature over the deal in the form its contract takes (`trustNonce`: a routed deal's, its provider's pick). */
  signDeal(d: RoutedDeal): Promise<Hex>;
  /** What the jobs read again and cannot change under its key (recent.ts). */
  recent: JobCreatorRecent;
}

export interface JobCreatorRecent {
  /** Module manifests as the store returned them (verified against their CIDs), by CID. */
  manifests: Recent<string, unknown>;
  /** Resource offers that passed a deal's check (their id the digest of their signed terms), by id. */
  resourceOffers: Recent<string, ResourceOfferRecord>;
  /** The registry's entries for exact versions that resolved to a usable manifest, by name@version. */
  entries: Recent<string, RegistryEntry>;
}

/** How many of each the job creator keeps. */
const RECENT_ENTRIES = 64;

export function createContext(opts: JobCreatorOptions, deps: { journal?: JobJournal; submit?: Partial<SubmitDefaults> } = {}): JobCreatorContext {
  const domain: Domain = { chainId: opts.chainId, verifyingContract: opts.deals };
  const chain = createLilyClient({ rpcUrl: opts.rpcUrl, account: opts.account, addresses: addressesOf(opts) });
  return {
    opts,
    submit: { ...defaultSubmit, ...deps.submit },
    domain,
    chain,
    solver: solverSet(opts.solverUrls?.length ? opts.solverUrls : [opts.solverUrl]),
    store: new StoreClient(opts.storeUrl),
    journal: deps.journal ?? memoryJournal(),
    signDeal: (d) => signDealFor(opts.account, chain.addresses, d),
    recent: { manifests: new Recent(RECENT_ENTRIES), resourceOffers: new Recent(RECENT_ENTRIES), entries: new Recent(RECENT_ENTRIES) },
  };
}
