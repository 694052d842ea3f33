// The audit's re-run: the very request the provider answered, on the mediator's copy of the model,
// at temperature 0 and the request's seed. An answer cut short (`aborted`: its client went away) is
// re-run to the answer's own length, so an honest provider's prefix compares equal to it.
import type { InferenceRequest, InferenceResponse } from "@lily/protocol";
import type { AuditModelRunner } from "./modelSource.ts";

export async function rerunAnswer(runner: AuditModelRunner, request: InferenceRequest, answer: InferenceResponse): Promise<InferenceResponse> {
  if (answer.finishReason !== "aborted") return runner.generate(request);
  if (answer.outputTokens === 0) return { text: "", finishReason: "aborted", inputTokens: await runner.countInputTokens(request), outputTokens: 0 };
  return runner.generate({ ...request, maxTokens: Math.min(request.maxTokens, answer.outputTokens) });
}
