// The job creator signs a deal only if every term follows from its own job offer and a resource
// offer the provider signed. Each case changes one thing the solver hands over; the job creator
// refuses, naming the field.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Hex } from "viem";
import { keccak256, toHex } from "viem";
import { DEAL_FIELDS, PPM, Policy, isLilyError, mediatorSetHash, sortedAddresses, type DealMessage, type ResourceOfferRecord } from "@lily/protocol";
import { checkDeal, type CheckDealOptions } from "../src/checkDeal.ts";
import { LILY, NOW, account, domain, jobOffer, mediator, otherModule, proposed, providers, resourceOffer } from "./offers.ts";

const [p1, p2, p3] = providers as [(typeof providers)[0], (typeof providers)[0], (typeof providers)[0]];
const stranger = account("stranger");

async function refusal(p: Promise<void>): Promise<{ code: string; field?: string; message: string }> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  assert.ok(isLilyError(e), `expected a refusal, got ${e === undefined ? "a signature" : String(e)}`);
  return e;
}

test("the job creator signs a deal whose every term follows from the two offers (the control)", async () => {
  const job = jobOffer();
  const ro = await resourceOffer(p1);
  await checkDeal(domain, proposed(job, ro), job, ro, NOW);
});

/** A different but well-formed value for each deal field. */
function changed(deal: DealMessage, field: keyof DealMessage): DealMessage {
  const v = deal[field];
  const other: Record<string, unknown> = {
    jobCreator: stranger.address,
    provider: p2.address,
    moduleCreator: stranger.address,
    policy: Policy.optimistic,
  };
  const value = field in other ? other[field] : typeof v === "bigint" ? v + 1n : typeof v === "number" ? v + 1 : keccak256(toHex(`not ${String(v)}`));
  return { ...deal, [field]: value };
}

for (const field of DEAL_FIELDS) {
  // Changing openBy alone moves the deadline the offers give: the deadline is what no longer follows.
  const expected = field === "openBy" ? "deal.deadline" : `deal.${field}`;
  test(`the solver changes deal.${field}: the job creator refuses, naming ${expected}`, async () => {
    const job = jobOffer();
    const ro = await resourceOffer(p1);
    const e = await refusal(checkDeal(domain, changed(proposed(job, ro), field), job, ro, NOW));
    assert.deepEqual([e.code, e.field], ["CONFLICT", expected], e.message);
  });
}

const replicate3 = () => jobOffer({ policy: Policy.replicate, policyParam: 3n, mediationFee: LILY });

interface Case {
  name: string;
  field: string;
  code?: string;
  /** Build the deal, its job offer and the resource offer shown, and the options the job creator checks with. */
  build(): Promise<{ deal: DealMessage; job: ReturnType<typeof jobOffer>; ro: ResourceOfferRecord | undefined; opts?: CheckDealOptions; now?: number }>;
}

const cases: Case[] = [
  {
    name: "a replica whose group does not include its own provider",
    field: "deal.replicas",
    async build() {
      const job = replicate3();
      const ro = await resourceOffer(p1);
      const group = sortedAddresses([p2.address, p3.address, stranger.address]);
      return { deal: proposed(job, ro, group), job, ro, opts: { group } };
    },
  },
  {
    name: "a replica whose group has fewer than k providers",
    field: "deal.replicas",
    async build() {
      const job = replicate3();
      const ro = await resourceOffer(p1);
      const group = sortedAddresses([p1.address, p2.address]);
      return { deal: proposed(job, ro, group), job, ro, opts: { group } };
    },
  },
  {
    name: "a replica whose group the solver shows differs from the one the deal hashes",
    field: "deal.replicas",
    async build() {
      const job = replicate3();
      const ro = await resourceOffer(p1);
      const deal = proposed(job, ro, [p1.address, p2.address, p3.address]);
      return { deal, job, ro, opts: { group: sortedAddresses([p1.address, p2.address, stranger.address]) } };
    },
  },
  {
    name: "a replicate(3) deal shown without its group",
    field: "deal.replicas",
    async build() {
      const job = replicate3();
      const ro = await resourceOffer(p1);
      return { deal: proposed(job, ro, [p1.address, p2.address, p3.address]), job, ro };
    },
  },
  {
    name: "an openBy further ahead than the job creator holds itself ready (600 s)",
    field: "deal.openBy",
    async build() {
      const job = jobOffer();
      const ro = await resourceOffer(p1);
      const deal = proposed(job, ro);
      return { deal: { ...deal, openBy: BigInt(NOW + 601), deadline: BigInt(NOW + 601) + job.offer.timeoutSeconds }, job, ro };
    },
  },
  {
    name: "an openBy already in the past",
    field: "deal.openBy",
    async build() {
      const job = jobOffer();
      const ro = await resourceOffer(p1);
      return { deal: proposed(job, ro), job, ro, now: NOW + 61 };
    },
  },
  {
    name: "a resource offer priced above the job's maxPrice",
    field: "deal.price",
    async build() {
      const job = jobOffer({ maxPrice: 2n * LILY });
      const ro = await resourceOffer(p1);
      return { deal: proposed(job, ro), job, ro };
    },
  },
  {
    name: "a resource offer that does not allow the job's module",
    field: "deal.resourceOffer.modules",
    async build() {
      const job = jobOffer();
      const ro = await resourceOffer(p1, { modules: [otherModule] });
      return { deal: proposed(job, ro), job, ro };
    },
  },
  {
    name: "an audit rate the provider's collateral cannot back",
    field: "deal.policy",
    async build() {
      const job = jobOffer({ policy: Policy.audit, policyParam: PPM / 10n, mediationFee: LILY });
      const ro = await resourceOffer(p1);
      return { deal: proposed(job, ro), job, ro };
    },
  },
  {
    name: "a resource offer the solver does not show",
    field: "deal.resourceOffer",
    async build() {
      const job = jobOffer();
      const ro = await resourceOffer(p1);
      return { deal: proposed(job, ro), job, ro: undefined };
    },
  },
  {
    name: "a resource offer shown with terms other than the ones its id hashes",
    field: "deal.resourceOffer",
    async build() {
      const job = jobOffer();
      const ro = await resourceOffer(p1);
      return { deal: proposed(job, ro), job, ro: { ...ro, offer: { ...ro.offer, price: LILY } } };
    },
  },
  {
    name: "a resource offer signed by someone other than its provider",
    field: "resourceOffer.signature",
    code: "BAD_SIGNATURE",
    async build() {
      const job = jobOffer();
      const real = await resourceOffer(p1);
      const forged = await resourceOffer(stranger);
      return { deal: proposed(job, real), job, ro: { ...real, signature: forged.signature } };
    },
  },
  {
    name: "a resource offer signature with v = 1, which the contracts' ECDSA refuses",
    field: "resourceOffer.signature",
    code: "BAD_SIGNATURE",
    async build() {
      const job = jobOffer();
      const ro = await resourceOffer(p1);
      const v = parseInt(ro.signature.slice(130), 16) - 27;
      return { deal: proposed(job, ro), job, ro: { ...ro, signature: `${ro.signature.slice(0, 130)}0${v}` as Hex } };
    },
  },
  {
    name: "a mediator set that includes the provider, a party to the deal",
    field: "deal.mediators",
    async build() {
      const job = jobOffer({ mediators: [mediator.address, p1.address] });
      const ro = await resourceOffer(p1, { mediators: [mediator.address, p1.address] });
      const deal = proposed(job, ro);
      return { deal: { ...deal, mediators: mediatorSetHash(sortedAddresses([mediator.address, p1.address])) }, job, ro };
    },
  },
];

for (const c of cases) {
  test(`the solver proposes ${c.name}: the job creator refuses, naming ${c.field}`, async () => {
    const { deal, job, ro, opts, now } = await c.build();
    const e = await refusal(checkDeal(domain, deal, job, ro, now ?? NOW, opts));
    assert.deepEqual([e.code, e.field], [c.code ?? "CONFLICT", c.field], e.message);
  });
}

test("a replica of a group of k distinct providers, itself among them, is signed (the control)", async () => {
  const job = replicate3();
  const ro = await resourceOffer(p2);
  const group = sortedAddresses([p1.address, p2.address, p3.address]);
  await checkDeal(domain, proposed(job, ro, group), job, ro, NOW, { group });
});
