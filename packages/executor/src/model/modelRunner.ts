// The model executor's one interface (Atlas): something that turns an InferenceRequest into text,
// a piece at a time, as the model produces it. Two implementations sit behind it: a GGUF model run
// in-process by node-llama-cpp (llamaRunner.ts), and a forwarder to an OpenAI-compatible server the
// provider already runs (forwardingRunner.ts). The provider, the mediator's audits and `lily model
// serve` all take a ModelRunner and never know which one it is.
import type { InferenceRequest, InferenceResponse } from "@lily/protocol";

export interface GenerateOptions {
  /** Aborting stops generation at once; the answer ends with finishReason "aborted" and counts only tokens produced. */
  signal?: AbortSignal;
  /** Called with each piece of text as it is produced (a token, or a few when a character spans tokens). */
  onText?: (text: string) => void;
}

export interface ModelInfo {
  /** Tokens of prompt plus answer the model can attend to. */
  contextLength: number;
  /** Whether `embed` works for this model. */
  embeddings: boolean;
}

export interface ModelRunner {
  info(): ModelInfo;
  /** Prompt tokens the request would take (its chat template applied): checked against the context before anything is paid. */
  countInputTokens(request: InferenceRequest): Promise<number>;
  /** Generate the answer; resolves once it has ended (stopped, hit maxTokens, or aborted). */
  generate(request: InferenceRequest, opts?: GenerateOptions): Promise<InferenceResponse>;
  /** One vector per input text; throws EXECUTOR_UNAVAILABLE when the model has no embeddings. */
  embed(texts: string[]): Promise<{ vectors: number[][]; inputTokens: number }>;
  /** Free the model's memory. */
  close(): Promise<void>;
}
