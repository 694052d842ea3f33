// The audit's judgement, pure: the provider's signed answer against the mediator's re-run of the
// same request (temperature 0, the request's seed), by the model manifest's comparator. What is
// judged is everything the provider signed and is paid by: the text, and the token counts the
// receipt bills (a right text with inflated counts is an overcharge, and wrong).
import type { InferenceRequest, InferenceResponse, ModelManifest, Receipt } from "@lily/protocol";
import type { AuditVerdict } from "@lily/api";

export type Comparator = ModelManifest["comparator"];

export interface Judgement {
  verdict: AuditVerdict;
  /** Why, in a sentence; for the record and the gateway. */
  reason: string;
  /** The comparator's score when it has one (similarity). */
  score?: number;
}

export interface AnswerUnderAudit {
  request: InferenceRequest;
  /** The provider's answer, whose digest its receipt signs. */
  response: InferenceResponse;
  /** The counts the receipt bills. */
  receipt: Pick<Receipt, "inputTokens" | "outputTokens">;
  /**
   * The mediator's re-run. For an answer cut short (`aborted`) it was run to the answer's own
   * output tokens, so an honest prefix compares equal.
   */
  reference: InferenceResponse;
}

/** The words of a text, as a set: what `similarity` compares. */
export function tokenSet(text: string): Set<string> {
  return new Set(text.split(/\s+/u).filter((w) => w.length > 0));
}

/** |A ∩ B| / |A ∪ B|; 1 for two empty sets. */
export function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let common = 0;
  for (const w of a) if (b.has(w)) common++;
  return common / (a.size + b.size - common);
}

const wrong = (reason: string, score?: number): Judgement => ({ verdict: "wrong", reason, ...(score !== undefined && { score }) });

export function judgeAnswer(comparator: Comparator, a: AnswerUnderAudit): Judgement {
  const { request, response, receipt, reference } = a;
  // WRONG: the receipt bills counts its own signed answer contradicts
  if (receipt.inputTokens !== response.inputTokens || receipt.outputTokens !== response.outputTokens) {
    return wrong(
      `the receipt bills ${receipt.inputTokens}+${receipt.outputTokens} tokens, the answer it signs says ${response.inputTokens}+${response.outputTokens}`,
    );
  }
  // WRONG: no answer may be longer than the request allowed
  if (response.outputTokens > request.maxTokens) return wrong(`${response.outputTokens} output tokens, more than the request's maxTokens ${request.maxTokens}`);
  // WRONG: the prompt's token count is fixed by the model's tokenizer, on any hardware
  if (response.inputTokens !== reference.inputTokens)
    return wrong(`the answer counts ${response.inputTokens} prompt tokens, the model counts ${reference.inputTokens}`);
  if (comparator.kind === "exact") {
    // WRONG: at temperature 0 and the same seed the model gives one text, token for token
    if (response.text !== reference.text) return wrong("the text differs from the model's at temperature 0 and the same seed");
    // WRONG: the same text in more tokens than the model used is an overcharge
    if (response.outputTokens !== reference.outputTokens) {
      return wrong(`the answer counts ${response.outputTokens} output tokens, the model used ${reference.outputTokens} for the same text`);
    }
    return { verdict: "correct", reason: "the text and token counts equal the re-run's" };
  }
  const score = jaccard(tokenSet(response.text), tokenSet(reference.text));
  // WRONG: the answer's words are too far from the re-run's
  if (score < comparator.threshold) return wrong(`the texts' word sets are ${score.toFixed(3)} similar, below the threshold ${comparator.threshold}`, score);
  return { verdict: "correct", reason: `the texts' word sets are ${score.toFixed(3)} similar, at or above the threshold ${comparator.threshold}`, score };
}
