// Proposals as a solver would hand them to a provider: a job offer signed by a job creator, a
// resource offer signed by the provider, and the deal protocol's deriveDeal makes of them, with
// a real store holding the modules. No chain: signatures are bound to a domain, not to a node.
import { join } from "node:path";
import { keccak256, toHex, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  DealRecord,
  JobOfferRecord,
  deriveDeal,
  hashRecord,
  signRecord,
  type DealMessage,
  type Domain,
  type JobOffer,
  type ResourceOffer,
} from "@lily/protocol";
import { startModuleStore, type ModuleStore } from "../../../test/support/localNetwork.ts";
import type { ProposalContext } from "../src/checkProposal.ts";
import { PLAIN_JOB_TERMS } from "../../../test/support/jobOffers.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

export const testKey = (name: string): Hex => keccak256(toHex(`lily provider test key: ${name}`));
export const jobCreator = privateKeyToAccount(testKey("job creator"));
export const provider = privateKeyToAccount(testKey("provider"));
export const otherProvider = privateKeyToAccount(testKey("other provider"));
export const domain: Domain = { chainId: 31337, verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" };
export const NOW = 1_900_000_000;

export type TestStore = ModuleStore;

/** A real store server with every built module published. */
export const startTestStore = (): Promise<TestStore> => startModuleStore(tempDir("lily-provider-store-"));

/** Where the store keeps a block: deleting it makes the block vanish. */
export const blockPath = (dataDir: string, cid: string) => join(dataDir, cid.slice(-2), cid);

export interface Proposal {
  record: DealRecord;
  job: JobOfferRecord;
  resource: { id: Hex; offer: ResourceOffer };
  ctx: ProposalContext;
}

export interface ProposalTerms {
  module: string;
  inputs: string;
  job?: Partial<JobOffer>;
  resource?: Partial<ResourceOffer>;
  /** Replace fields of the derived deal (its id is recomputed: the record stays self-consistent). */
  deal?: Partial<DealMessage>;
  openBy?: bigint;
  group?: Address[];
  ctx?: Partial<ProposalContext>;
}

/** A proposal for `provider`, checked at NOW against a provider holding nothing. */
export async function proposal(ts: TestStore, t: ProposalTerms): Promise<Proposal> {
  const offer: JobOffer = {
    jobCreator: jobCreator.address,
    module: t.module,
    inputs: t.inputs,
    cpu: 1,
    memoryMb: 64,
    ...PLAIN_JOB_TERMS,
    maxPrice: 10n,
    timeoutSeconds: 600n,
    expiresAt: BigInt(NOW + 3600),
    nonce: 1n,
    ...t.job,
  };
  const ro: ResourceOffer = {
    provider: provider.address,
    cpu: 4,
    memoryMb: 4096,
    gpu: 0,
    vramMb: 0,
    price: 3n,
    collateral: 5n,
    modules: Object.values(ts.modules),
    mediators: [],
    expiresAt: BigInt(NOW + 3600),
    nonce: 1n,
    ...t.resource,
  };
  const job = { id: hashRecord(domain, "JobOffer", offer), offer };
  const resource = { id: hashRecord(domain, "ResourceOffer", ro), offer: ro };
  const deal = { ...deriveDeal(job, resource, { openBy: t.openBy ?? BigInt(NOW + 60), ...(t.group && { group: t.group }) }), ...t.deal };
  const signature = await signRecord(jobCreator, domain, "JobOffer", offer);
  return {
    record: DealRecord.parse({
      id: hashRecord(domain, "Deal", deal),
      deal,
      jobOfferId: job.id,
      resourceOfferId: resource.id,
      module: offer.module,
      inputs: offer.inputs,
      status: "proposed",
      updatedAt: 0,
      ...(t.group && { group: t.group }),
    }),
    job: JobOfferRecord.parse({ id: job.id, offer, signature, status: "matched", createdAt: 0 }),
    resource,
    ctx: {
      domain,
      me: provider.address,
      offers: new Map([[resource.id, ro]]),
      capacity: { cpu: 4, memoryMb: 4096, gpu: 0, vramMb: 0 },
      held: { cpu: 0, memoryMb: 0, gpu: 0, vramMb: 0 },
      maxOpenDelaySeconds: 600,
      maxJobSeconds: 3600,
      now: NOW,
      source: ts.store,
      ...t.ctx,
    },
  };
}
