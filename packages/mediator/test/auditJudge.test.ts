// The audit's judgement, case by case: the provider's signed answer against the mediator's re-run,
// under the exact and the similarity comparators, including the token counts the receipt bills.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cidForBytes, type InferenceRequest, type InferenceResponse } from "@lily/protocol";
import { jaccard, judgeAnswer, tokenSet, type Comparator } from "../src/audit/judgeAnswer.ts";
import { auditAllowance } from "../src/audit/checkAudit.ts";

const request: InferenceRequest = {
  kind: "completion",
  prompt: "Once upon a time",
  model: cidForBytes(new TextEncoder().encode("model")),
  maxTokens: 8,
  temperature: 0,
  topP: 1,
  seed: 7,
  stop: [],
};
const answer = (o: Partial<InferenceResponse> = {}): InferenceResponse => ({
  text: "there was a fox",
  finishReason: "stop",
  inputTokens: 5,
  outputTokens: 4,
  ...o,
});
const exact: Comparator = { kind: "exact" };
const similar: Comparator = { kind: "similarity", threshold: 0.5 };

test("judging an answer against the re-run, case by case", () => {
  const cases: { name: string; comparator: Comparator; response: InferenceResponse; reference: InferenceResponse; billed?: [number, number]; want: string }[] =
    [
      { name: "the same text and counts", comparator: exact, response: answer(), reference: answer(), want: "correct" },
      { name: "another text", comparator: exact, response: answer({ text: "there was a dog" }), reference: answer(), want: "wrong" },
      { name: "one extra space", comparator: exact, response: answer({ text: "there was a fox " }), reference: answer(), want: "wrong" },
      { name: "the same text in more output tokens", comparator: exact, response: answer({ outputTokens: 5 }), reference: answer(), want: "wrong" },
      { name: "more prompt tokens than the model counts", comparator: exact, response: answer({ inputTokens: 6 }), reference: answer(), want: "wrong" },
      {
        name: "more output tokens than maxTokens",
        comparator: exact,
        response: answer({ outputTokens: 9 }),
        reference: answer({ outputTokens: 9 }),
        want: "wrong",
      },
      { name: "a receipt billing more than its answer says", comparator: exact, response: answer(), reference: answer(), billed: [5, 8], want: "wrong" },
      { name: "similar enough words", comparator: similar, response: answer({ text: "there was a cat" }), reference: answer(), want: "correct" },
      { name: "the same words reordered", comparator: similar, response: answer({ text: "a fox there was" }), reference: answer(), want: "correct" },
      { name: "too few words in common", comparator: similar, response: answer({ text: "no such story" }), reference: answer(), want: "wrong" },
      { name: "similar words, overcounted prompt", comparator: similar, response: answer({ inputTokens: 50 }), reference: answer(), want: "wrong" },
      { name: "two empty answers", comparator: similar, response: answer({ text: "" }), reference: answer({ text: "" }), want: "correct" },
    ];
  for (const c of cases) {
    const [inputTokens, outputTokens] = c.billed ?? [c.response.inputTokens, c.response.outputTokens];
    const got = judgeAnswer(c.comparator, { request, response: c.response, receipt: { inputTokens, outputTokens }, reference: c.reference });
    assert.equal(got.verdict, c.want, `${c.name}: ${got.reason}`);
  }
});

test("similarity is the overlap of the two texts' word sets", () => {
  assert.equal(jaccard(tokenSet("a b c"), tokenSet("c b a")), 1);
  assert.equal(jaccard(tokenSet("a b"), tokenSet("b c")), 1 / 3);
  assert.equal(jaccard(tokenSet(""), tokenSet("  ")), 1);
  assert.equal(jaccard(tokenSet("a"), tokenSet("")), 0);
  assert.deepEqual([...tokenSet(" a\n b\ta  ")], ["a", "b"]);
});

test("a lease allows audits in proportion to its audit share, plus a few", () => {
  assert.equal(auditAllowance(0, 1000n), 4);
  assert.equal(auditAllowance(100, 1n), 6); // 1% of 1 answer rounds up to one
  assert.equal(auditAllowance(100, 1000n), 24);
  assert.equal(auditAllowance(10_000, 10n), 24);
});
