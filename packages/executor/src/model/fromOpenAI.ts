// OpenAI request bodies as InferenceRequests, with OpenAI's defaults: temperature 1, top_p 1, a
// chat answer as long as the context allows, a completion of 16 tokens, and a fresh random seed
// when the client names none (so an answer can still be reproduced from its request record).
import { randomInt } from "node:crypto";
import { type ChatCompletionRequest, type CompletionRequest, DEFAULT_COMPLETION_MAX_TOKENS, messageText } from "@lily/api";
import { InferenceRequest, parse } from "@lily/protocol";

function sampling(body: ChatCompletionRequest | CompletionRequest, modelCid: string) {
  return {
    model: modelCid,
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? 1,
    seed: body.seed ?? randomInt(2 ** 32),
    stop: typeof body.stop === "string" ? [body.stop] : (body.stop ?? []),
  };
}

/** `maxTokens` unset means "whatever room the context leaves": the caller fills it in after counting the prompt. */
export function fromChatCompletion(
  body: ChatCompletionRequest,
  modelCid: string,
  roomFor: (r: InferenceRequest) => Promise<number>,
): Promise<InferenceRequest> {
  const messages = body.messages.map((m) => ({ role: m.role, content: messageText(m.content) }));
  return withMaxTokens({ kind: "chat", messages, ...sampling(body, modelCid) }, body.max_completion_tokens ?? body.max_tokens ?? undefined, roomFor);
}

export function fromCompletion(body: CompletionRequest, modelCid: string): InferenceRequest {
  const prompt = typeof body.prompt === "string" ? body.prompt : body.prompt[0]!;
  return parse(
    InferenceRequest,
    { kind: "completion", prompt, ...sampling(body, modelCid), maxTokens: body.max_tokens ?? DEFAULT_COMPLETION_MAX_TOKENS },
    "body",
  );
}

async function withMaxTokens(
  draft: Omit<Extract<InferenceRequest, { kind: "chat" }>, "maxTokens">,
  maxTokens: number | undefined,
  roomFor: (r: InferenceRequest) => Promise<number>,
): Promise<InferenceRequest> {
  const request = parse(InferenceRequest, { ...draft, maxTokens: maxTokens ?? 1 }, "body");
  return maxTokens === undefined ? { ...request, maxTokens: Math.max(1, await roomFor(request)) } : request;
}
