// The tiny GGUF model, written once per test process into a temporary directory, and the requests
// the model tests send it. Tests write their own copy rather than rely on a prior build.
import { join } from "node:path";
import type { InferenceRequest } from "@lily/protocol";
import { writeTinyModel } from "../../../../modules/scripts/tinyModel.ts";
import { tempDir } from "../../../../test/support/tempDir.ts";

let path: string | undefined;

export function tinyModelPath(): string {
  path ??= writeTinyModel(join(tempDir("lily-model-"), "tiny-llama.gguf")).path;
  return path;
}

/** Any CIDv1 sha-256 will do: the runner does not look the model up. */
export const MODEL_CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";

export function completionRequest(prompt: string, over: Partial<InferenceRequest> = {}): InferenceRequest {
  return { kind: "completion", prompt, model: MODEL_CID, maxTokens: 40, temperature: 0, topP: 1, seed: 0, stop: [], ...over } as InferenceRequest;
}

export function chatRequest(content: string, over: Partial<InferenceRequest> = {}): InferenceRequest {
  return {
    kind: "chat",
    messages: [
      { role: "system", content: "Answer briefly." },
      { role: "user", content },
    ],
    model: MODEL_CID,
    maxTokens: 40,
    temperature: 0,
    topP: 1,
    seed: 0,
    stop: [],
    ...over,
  } as InferenceRequest;
}
