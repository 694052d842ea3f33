// An InferenceRequest as the tokens the model reads, and the extra stop sequences its format needs.
// A completion is its prompt (after the model's beginning-of-text token, if it wants one); a chat is
// rendered by the model's own chat template (node-llama-cpp's resolveChatWrapper, which reads the
// GGUF's tokenizer.chat_template), or by a general "### Human / ### Assistant" format when the
// model has none. Counting and generating both go through here, so the counts always agree.
import { type ChatHistoryItem, type ChatWrapper, GeneralChatWrapper, type LlamaModel, resolveChatWrapper, SpecialTokensText, type Token } from "node-llama-cpp";
import type { InferenceRequest } from "@lily/protocol";

export interface PromptTokens {
  tokens: Token[];
  /** Text that ends the model's turn in this chat format (besides end-of-generation tokens). */
  stops: string[];
}

export function chatWrapperFor(model: LlamaModel): ChatWrapper {
  return resolveChatWrapper(model) ?? new GeneralChatWrapper();
}

export function promptTokens(model: LlamaModel, wrapper: ChatWrapper, request: InferenceRequest): PromptTokens {
  if (request.kind === "completion") {
    const bos = model.tokens.bos;
    const text = model.tokenize(request.prompt);
    return { tokens: bos !== null && model.tokens.shouldPrependBosToken ? [bos, ...text] : text, stops: [] };
  }
  const history: ChatHistoryItem[] = request.messages.map((m) =>
    m.role === "assistant" ? { type: "model", response: [m.content] } : { type: m.role === "user" ? "user" : "system", text: m.content },
  );
  // The answer is the model's next turn; a trailing assistant message is a prefix it continues.
  if (request.messages.at(-1)?.role !== "assistant") history.push({ type: "model", response: [] });
  const state = wrapper.generateContextState({ chatHistory: history });
  // Triggers made only of text become stop sequences; those naming special tokens (EOS, EOT) are
  // end-of-generation tokens, which end the answer anyway.
  const stops = state.stopGenerationTriggers
    .filter((t) => t.values.every((v) => typeof v === "string" || v instanceof SpecialTokensText))
    .map((t) => t.values.map((v) => (typeof v === "string" ? v : (v as SpecialTokensText).value)).join(""))
    .filter((s) => s.length > 0);
  return { tokens: state.contextText.tokenize(model.tokenizer), stops };
}
