import { test } from "node:test";
import assert from "node:assert/strict";
import { privateKeyToAccount } from "viem/accounts";
import { zeroAddress, type Hex } from "viem";
import {
  answerCost,
  cidForRecord,
  hashRecord,
  isLilyError,
  requestDigest,
  responseDigest,
  signRecord,
  verifyAnswerRecord,
  type AnswerRecord,
  type InferenceRequest,
  type Lease,
  type ModelOffer,
} from "@lily/protocol";
import { chatToInference, completionToInference } from "../src/http/toInference.ts";
import { leaseTerms } from "../src/leases/leaseTerms.ts";
import { canTake, EXPIRY_MARGIN_SECONDS, type HeldLease } from "../src/leases/heldLease.ts";
import { estimateInputTokens } from "../src/leases/answer.ts";
import { drawnForAudit } from "../src/answers.ts";

const MODEL = cidForRecord({ model: "tiny" }).cid;
const limits = { cid: MODEL, contextLength: 512, defaultMaxTokens: 128 };
const payer = privateKeyToAccount(`0x${"11".repeat(32)}` as Hex);
const provider = privateKeyToAccount(`0x${"22".repeat(32)}` as Hex);
const mediator = privateKeyToAccount(`0x${"33".repeat(32)}` as Hex);
const domain = { chainId: 31337, verifyingContract: "0x00000000000000000000000000000000000000aa" as const };

test("an OpenAI chat request becomes an explicit inference record: every default written down, a seed chosen", () => {
  const r = chatToInference(
    {
      model: "tiny",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "hi " },
            { type: "text", text: "there" },
          ],
        },
      ],
    },
    limits,
  );
  assert.equal(r.kind, "chat");
  assert.deepEqual(r.kind === "chat" && r.messages, [{ role: "user", content: "hi there" }]);
  assert.equal(r.maxTokens, 128);
  assert.equal(r.temperature, 1);
  assert.equal(r.topP, 1);
  assert.deepEqual(r.stop, []);
  assert.ok(Number.isInteger(r.seed));
  const given = chatToInference(
    { model: "tiny", messages: [{ role: "user", content: "x" }], seed: 7, temperature: 0, stop: "END", max_completion_tokens: 9 },
    limits,
  );
  assert.deepEqual([given.seed, given.temperature, given.stop, given.maxTokens], [7, 0, ["END"], 9]);
});

test("a completion defaults to 16 tokens, as OpenAI's does, and max_tokens past the context is refused", () => {
  assert.equal(completionToInference({ model: "tiny", prompt: "a" }, limits).maxTokens, 16);
  assert.throws(
    () => completionToInference({ model: "tiny", prompt: "a", max_tokens: 513 }, limits),
    (e) => isLilyError(e, "INVALID_INPUT") && e.field === "max_tokens",
  );
});

test("the same inference record always has the same digest, and any change changes it", () => {
  const r: InferenceRequest = completionToInference({ model: "tiny", prompt: "a", seed: 1, temperature: 0 }, limits);
  assert.equal(requestDigest(r), requestDigest({ ...r }));
  assert.notEqual(requestDigest(r), requestDigest({ ...r, seed: 2 }));
  assert.notEqual(
    responseDigest({ text: "a", finishReason: "stop", inputTokens: 1, outputTokens: 1 }),
    responseDigest({ text: "a", finishReason: "length", inputTokens: 1, outputTokens: 1 }),
  );
});

const offer = (mediators: `0x${string}`[]): ModelOffer => ({
  provider: provider.address,
  model: MODEL,
  inputPricePer1k: 10n,
  outputPricePer1k: 20n,
  collateral: 5n,
  endpoint: "http://127.0.0.1:1",
  mediators,
  expiresAt: 2n ** 40n,
  nonce: 1n,
});

test("a lease names the gateway's mediator and audit rate only when the provider accepts that mediator", () => {
  const base = {
    payer: payer.address,
    budget: 1000n,
    now: 1_000,
    leaseSeconds: 600,
    mediator: mediator.address,
    mediationFee: 3n,
    auditBps: 500,
    royalty: { moduleCreator: zeroAddress, royaltyBps: 0 },
    nonce: 9n,
  };
  const audited = leaseTerms({ ...base, offer: offer([mediator.address]) });
  assert.equal(audited.mediator, mediator.address);
  assert.equal(audited.auditBps, 500);
  assert.equal(audited.expiresAt, 1_600n);
  assert.equal(audited.collateral, 5n);
  const unaudited = leaseTerms({ ...base, offer: offer([]) });
  assert.equal(unaudited.mediator, zeroAddress);
  assert.equal(unaudited.auditBps, 0);
  assert.equal(unaudited.mediationFee, 0n);
});

test("a lease takes a request only with budget left for its worst case and time left before expiry", () => {
  const terms = leaseTerms({
    payer: payer.address,
    offer: offer([]),
    budget: 100n,
    now: 0,
    leaseSeconds: 600,
    mediationFee: 0n,
    auditBps: 0,
    royalty: { moduleCreator: zeroAddress, royaltyBps: 0 },
    nonce: 1n,
  });
  const held: HeldLease = {
    id: "0x01",
    terms,
    provider: provider.address,
    endpoint: "",
    model: MODEL,
    paid: 60n,
    requests: 3n,
    reserved: 30n,
    inFlight: 1,
    tail: Promise.resolve(),
  };
  assert.equal(canTake(held, 10n, 0), true);
  assert.equal(canTake(held, 11n, 0), false);
  assert.equal(canTake(held, 1n, 600 - EXPIRY_MARGIN_SECONDS), false);
});

test("answers are priced per 1,000 tokens and never round down to free", () => {
  assert.equal(answerCost({ inputPricePer1k: 1000n, outputPricePer1k: 2000n }, 3, 4), 11n);
  assert.equal(answerCost({ inputPricePer1k: 1n, outputPricePer1k: 1n }, 1, 0), 1n);
  assert.equal(answerCost({ inputPricePer1k: 0n, outputPricePer1k: 0n }, 100, 100), 0n);
});

test("the prompt-token bound is at least one token per UTF-8 byte", () => {
  const r = completionToInference({ model: "tiny", prompt: "héllo" }, limits);
  assert.ok(estimateInputTokens(r) >= Buffer.byteLength("héllo"));
});

test("audits draw only temperature-0 answers, at the lease's rate", () => {
  assert.equal(drawnForAudit(10_000, 0), true);
  assert.equal(drawnForAudit(0, 0), false);
  assert.equal(drawnForAudit(10_000, 0.7), false);
  assert.equal(drawnForAudit(500, 0, 499), true);
  assert.equal(drawnForAudit(500, 0, 500), false);
});

test("an answer record verifies only when the receipt is the provider's over exactly that request and answer", async () => {
  const lease: Lease = leaseTerms({
    payer: payer.address,
    offer: offer([]),
    budget: 100n,
    now: 0,
    leaseSeconds: 600,
    mediationFee: 0n,
    auditBps: 0,
    royalty: { moduleCreator: zeroAddress, royaltyBps: 0 },
    nonce: 1n,
  });
  const leaseId = hashRecord(domain, "Lease", lease);
  const request = completionToInference({ model: "tiny", prompt: "a", seed: 1, temperature: 0 }, limits);
  const response = { text: "b", finishReason: "stop" as const, inputTokens: 2, outputTokens: 1 };
  const receipt = {
    lease: leaseId,
    provider: provider.address,
    seq: 1n,
    request: requestDigest(request),
    response: responseDigest(response),
    inputTokens: 2,
    outputTokens: 1,
  };
  const record: AnswerRecord = {
    chainId: domain.chainId,
    leases: domain.verifyingContract,
    lease,
    request,
    response,
    receipt: { receipt, signature: await signRecord(provider, domain, "Receipt", receipt) },
  };
  assert.equal((await verifyAnswerRecord(record)).leaseId, leaseId);
  const bad = async (r: AnswerRecord, field: string) =>
    assert.rejects(verifyAnswerRecord(r), (e) => isLilyError(e, "BAD_SIGNATURE") && e.field === field, field);
  await bad({ ...record, response: { ...response, text: "c" } }, "receipt.response");
  await bad({ ...record, request: { ...request, seed: 2 } }, "receipt.request");
  await bad({ ...record, lease: { ...lease, budget: 101n } }, "receipt.lease");
  await bad({ ...record, receipt: { receipt, signature: await signRecord(payer, domain, "Receipt", receipt) } }, "receipt.signature");
});
