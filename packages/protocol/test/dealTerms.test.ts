import { test } from "node:test";
import assert from "node:assert/strict";
import { privateKeyToAccount, generatePrivateKey } from "viem/accounts";
import type { Address, Hex } from "viem";
import {
  DEAL_FIELDS,
  Policy,
  checkDealTerms,
  deriveDeal,
  hashRecord,
  mediatorSetHash,
  replicaGroupHash,
  sortedAddresses,
  type DealMessage,
  type JobOfferMessage,
  type ResourceOfferMessage,
} from "../src/index.ts";

const domain = { chainId: 31337, verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" } as const;
const jc = privateKeyToAccount(generatePrivateKey()).address;
const rp = privateKeyToAccount(generatePrivateKey()).address;
const [m1, m2, m3] = sortedAddresses([0, 1, 2].map(() => privateKeyToAccount(generatePrivateKey()).address));
const NOW = 1_900_000_000;

const jobOffer: JobOfferMessage = {
  jobCreator: jc,
  module: "bagu-module",
  inputs: "bagu-inputs",
  cpu: 1,
  memoryMb: 64,
  gpu: 0,
  vramMb: 0,
  maxPrice: 10n,
  policy: Policy.optimistic,
  policyParam: 600n,
  mediationFee: 2n,
  mediators: [m1!, m2!, jc],
  moduleCreator: m3!,
  royaltyBps: 250,
  timeoutSeconds: 120n,
  expiresAt: BigInt(NOW + 3600),
  nonce: 7n,
};
const resourceOffer: ResourceOfferMessage = {
  provider: rp,
  cpu: 4,
  memoryMb: 4096,
  gpu: 0,
  vramMb: 0,
  price: 3n,
  collateral: 5n,
  modules: ["bagu-module"],
  mediators: [m2!, m1!, rp],
  expiresAt: BigInt(NOW + 3600),
  nonce: 9n,
};
const job = { id: hashRecord(domain, "JobOffer", jobOffer), offer: jobOffer };
const resource = { id: hashRecord(domain, "ResourceOffer", resourceOffer), offer: resourceOffer };
const bounds = { now: NOW, maxOpenDelaySeconds: 120 };
const proposed = deriveDeal(job, resource, { openBy: BigInt(NOW + 60) });

test("a deal derived from two offers takes every term from them, and the mediators both list minus the parties", () => {
  assert.equal(proposed.price, 3n);
  assert.equal(proposed.collateral, 5n);
  assert.equal(proposed.deadline, BigInt(NOW + 60) + 120n, "the provider gets the job's whole timeout after the last moment the deal can open");
  // The job creator and the provider listed themselves; nobody rules on their own dispute.
  assert.equal(proposed.mediators, mediatorSetHash([m1!, m2!]));
  assert.equal(checkDealTerms(proposed, job, resource, bounds), undefined);
});

// A value for each field that differs from the derived one.
const altered: { [K in keyof DealMessage]: DealMessage[K] } = {
  jobCreator: rp,
  provider: jc,
  jobOffer: `0x${"11".repeat(32)}` as Hex,
  resourceOffer: `0x${"22".repeat(32)}` as Hex,
  price: 4n,
  collateral: 4n,
  openBy: BigInt(NOW + 61),
  deadline: proposed.deadline + 1n,
  policy: Policy.trust,
  policyParam: 60n,
  mediationFee: 1n,
  mediators: mediatorSetHash([m1!, m2!, jc]),
  replicas: replicaGroupHash([rp]),
  moduleCreator: jc,
  royaltyBps: 0,
};

for (const field of DEAL_FIELDS) {
  test(`a deal whose ${field} was changed after it was derived is refused`, () => {
    const refused = checkDealTerms({ ...proposed, [field]: altered[field] }, job, resource, bounds);
    assert.ok(refused, `${field} changed and nobody noticed`);
    // Moving openBy moves the deadline the offers give, so the deadline is what no longer matches.
    assert.equal(refused.field, field === "openBy" ? "deal.deadline" : `deal.${field}`);
  });
}

test("the proposer's one choice, openBy, must be open now and no further away than the checker holds itself ready", () => {
  const at = (openBy: number) => checkDealTerms(deriveDeal(job, resource, { openBy: BigInt(openBy) }), job, resource, bounds);
  assert.equal(at(NOW)?.field, undefined);
  assert.equal(at(NOW + 120)?.field, undefined);
  assert.equal(at(NOW - 1)?.field, "deal.openBy");
  assert.equal(at(NOW + 121)?.field, "deal.openBy");
});

test("a replica names its whole group of k distinct providers, itself among them, and excludes them all as mediators", () => {
  const peers: Address[] = [m1!, m3!];
  const rJob = { ...job, offer: { ...jobOffer, policy: Policy.replicate, policyParam: 3n } };
  const group = [rp, ...peers];
  const deal = deriveDeal(rJob, resource, { openBy: BigInt(NOW + 60), group });
  assert.equal(deal.replicas, replicaGroupHash(group));
  // m1 provides in the group, so it cannot mediate it; m2 still can.
  assert.equal(deal.mediators, mediatorSetHash([m2!]));
  assert.equal(checkDealTerms(deal, rJob, resource, { ...bounds, group }), undefined);
  assert.equal(checkDealTerms(deal, rJob, resource, { ...bounds, group: [m1!, m3!, m2!] })?.field, "deal.replicas", "a group without the provider");
  assert.equal(checkDealTerms(deal, rJob, resource, { ...bounds, group: [rp, m1!] })?.field, "deal.replicas", "a group of 2 for k = 3");
  assert.equal(checkDealTerms(deal, rJob, resource, { ...bounds, group: [rp, m1!, m1!] })?.field, "deal.replicas", "a provider twice");
  assert.equal(checkDealTerms(proposed, job, resource, { ...bounds, group })?.field, "deal.replicas", "a group for a single deal");
});
