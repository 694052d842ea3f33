// What an audit must show before the mediator re-runs anything: it is the lease's mediator, the
// lease's provider signed the receipt for this lease, and the request and answer are the ones the
// receipt signs. Each refusal names its field.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Address, LocalAccount } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  cidForBytes,
  hashRecord,
  isLilyError,
  requestDigest,
  responseDigest,
  signRecord,
  type Domain,
  type InferenceRequest,
  type InferenceResponse,
  type Lease,
  type Receipt,
} from "@lily/protocol";
import { checkAudit } from "../src/audit/checkAudit.ts";
import type { AuditBody } from "@lily/api";

const account = () => privateKeyToAccount(generatePrivateKey());
const domain: Domain = { chainId: 31337, verifyingContract: `0x${"1ea5e".padStart(40, "0")}` as Address };
const model = cidForBytes(new TextEncoder().encode("model manifest"));
const [payer, provider, mediator, stranger] = [account(), account(), account(), account()];
const ZERO = `0x${"0".repeat(40)}` as Address;

const lease: Lease = {
  payer: payer.address,
  provider: provider.address,
  model,
  budget: 1_000_000n,
  collateral: 5_000n,
  inputPricePer1k: 10n,
  outputPricePer1k: 20n,
  openBy: 2_000_000_000n,
  expiresAt: 2_000_003_600n,
  mediator: mediator.address,
  mediationFee: 100n,
  auditBps: 500,
  moduleCreator: ZERO,
  royaltyBps: 0,
  nonce: 1n,
};
const request: InferenceRequest = { kind: "completion", prompt: "Once", model, maxTokens: 8, temperature: 0, topP: 1, seed: 1, stop: [] };
const response: InferenceResponse = { text: "upon a time", finishReason: "length", inputTokens: 2, outputTokens: 8 };

async function audit(
  o: { lease?: Lease; request?: InferenceRequest; response?: InferenceResponse; receipt?: Partial<Receipt>; signer?: LocalAccount } = {},
): Promise<AuditBody> {
  const l = o.lease ?? lease;
  const receipt: Receipt = {
    lease: hashRecord(domain, "Lease", l),
    provider: l.provider,
    seq: 1n,
    request: requestDigest(o.request ?? request),
    response: responseDigest(o.response ?? response),
    inputTokens: 2,
    outputTokens: 8,
    ...o.receipt,
  };
  const signature = await signRecord(o.signer ?? provider, domain, "Receipt", receipt);
  return { lease: l, request: o.request ?? request, response: o.response ?? response, receipt: { receipt, signature } };
}

const fails = (code: string, field: string) => (e: unknown) => isLilyError(e) && e.code === code && e.field === field;

test("a well-formed audit passes, identified by its lease and receipt hashes", async () => {
  const body = await audit();
  const checked = await checkAudit(body, domain, mediator.address);
  assert.equal(checked.lease, hashRecord(domain, "Lease", lease));
  assert.equal(checked.receipt, hashRecord(domain, "Receipt", body.receipt.receipt));
});

test("audits the mediator must refuse, each naming its field", async () => {
  const other = { ...lease, nonce: 2n };
  const cases: { name: string; body: () => Promise<AuditBody>; code: string; field: string }[] = [
    {
      name: "a lease naming another mediator",
      body: () => audit({ lease: { ...lease, mediator: stranger.address } }),
      code: "INVALID_INPUT",
      field: "lease.mediator",
    },
    {
      name: "a receipt for another lease",
      body: () => audit({ receipt: { lease: hashRecord(domain, "Lease", other) } }),
      code: "INVALID_INPUT",
      field: "receipt.receipt.lease",
    },
    {
      name: "a receipt naming someone else",
      body: () => audit({ receipt: { provider: stranger.address }, signer: stranger }),
      code: "INVALID_INPUT",
      field: "receipt.receipt.provider",
    },
    { name: "a receipt not signed by the provider", body: () => audit({ signer: payer }), code: "BAD_SIGNATURE", field: "receipt.signature" },
    {
      name: "a request other than the one signed",
      body: async () => ({ ...(await audit()), request: { ...request, prompt: "Twice" } }),
      code: "INVALID_INPUT",
      field: "request",
    },
    {
      name: "an answer other than the one signed",
      body: async () => ({ ...(await audit()), response: { ...response, text: "forged" } }),
      code: "INVALID_INPUT",
      field: "response",
    },
    {
      name: "a request for another model",
      body: () => audit({ request: { ...request, model: cidForBytes(new Uint8Array([1])) } }),
      code: "INVALID_INPUT",
      field: "request.model",
    },
    {
      name: "a request at a temperature above 0",
      body: () => audit({ request: { ...request, temperature: 0.7 } }),
      code: "INVALID_INPUT",
      field: "request.temperature",
    },
  ];
  for (const c of cases) await assert.rejects(checkAudit(await c.body(), domain, mediator.address), fails(c.code, c.field), c.name);
});
