// `lily model serve`: an OpenAI-compatible HTTP server over one ModelRunner, the same kind of
// server a provider may already run (Ollama, vLLM, llama.cpp's server) and the one the forwarding
// runner is tested against. Routes: GET /v1/models, POST /v1/chat/completions, /v1/completions
// (whole answers, or server-sent chunks ending `data: [DONE]`, with a usage chunk when asked),
// /v1/embeddings when the model has them, and vLLM's POST /tokenize so a forwarder can count a
// prompt exactly without generating. A client that hangs up stops the generation.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type AnswerMeta,
  ChatCompletionRequest,
  CompletionRequest,
  EmbeddingRequest,
  chatChunk,
  chatCompletion,
  completion,
  completionChunk,
  embeddingList,
  messageText,
  modelList,
  nodeHttp,
  openAIError,
  openSse,
  readBody,
  sendOpenAIError,
  usageChunk,
  usageOf,
  writeSse,
} from "@lily/api";
import { InferenceRequest, LilyError, cidForBytes, parse } from "@lily/protocol";
import * as z from "zod";
import { fromChatCompletion, fromCompletion } from "./fromOpenAI.ts";
import type { ModelRunner } from "./modelRunner.ts";

export interface OpenAIServerOptions {
  host: string;
  /** 0 picks a free port (see `url` on the result). */
  port: number;
  /** The `model` clients name; any other name is a 404, as OpenAI answers. */
  modelName: string;
  /** The model manifest's CID, recorded in each InferenceRequest; default the CID of the name's bytes. */
  modelCid?: string;
  /** Largest request body accepted. Default 4 MiB. */
  maxBodyBytes?: number;
}

export interface OpenAIServer {
  /** e.g. http://127.0.0.1:8080 (the OpenAI base URL is this plus /v1). */
  url: string;
  close(): Promise<void>;
}

/** vLLM's tokenize body: a prompt or a chat, counted the way an answer to it would be. */
const TokenizeRequest = z.union([
  z.object({ model: z.string().optional(), prompt: z.string() }),
  z.object({ model: z.string().optional(), messages: ChatCompletionRequest.shape.messages }),
]);

export async function serveOpenAI(runner: ModelRunner, opts: OpenAIServerOptions): Promise<OpenAIServer> {
  const modelCid = opts.modelCid ?? cidForBytes(new TextEncoder().encode(opts.modelName));
  const created = Math.floor(Date.now() / 1000);
  const limit = opts.maxBodyBytes ?? 4 * 1024 * 1024;
  const room = async (r: InferenceRequest) => runner.info().contextLength - (await runner.countInputTokens(r));

  async function json(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    const body = await readBody(req, res, limit);
    try {
      return JSON.parse(body.toString("utf8"));
    } catch (cause) {
      throw new LilyError({ code: "INVALID_INPUT", field: "body", message: "body: not valid JSON", cause });
    }
  }

  function checkModel(name: string | undefined): void {
    // REJECT: a request for another model is not answered by this one.
    if (name !== undefined && name !== opts.modelName) {
      throw new LilyError({ code: "UNKNOWN_MODULE", field: "model", message: `model: this server runs ${opts.modelName}, not ${name}` });
    }
  }

  async function answer(req: IncomingMessage, res: ServerResponse, kind: "chat" | "completion"): Promise<void> {
    const raw = await json(req, res);
    const body = kind === "chat" ? parse(ChatCompletionRequest, raw, "body") : parse(CompletionRequest, raw, "body");
    checkModel(body.model);
    const request =
      kind === "chat" ? await fromChatCompletion(body as ChatCompletionRequest, modelCid, room) : fromCompletion(body as CompletionRequest, modelCid);
    const meta: AnswerMeta = { id: `${kind === "chat" ? "chatcmpl" : "cmpl"}-${randomUUID()}`, model: opts.modelName, created: Math.floor(Date.now() / 1000) };
    const hangUp = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) hangUp.abort();
    });
    if (!body.stream) {
      const out = await runner.generate(request, { signal: hangUp.signal });
      const usage = usageOf(out.inputTokens, out.outputTokens);
      const reply = kind === "chat" ? chatCompletion(meta, out.text, out.finishReason, usage) : completion(meta, out.text, out.finishReason, usage);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(reply));
      return;
    }
    const withUsage = body.stream_options?.include_usage === true;
    // OpenAI marks every chunk `usage: null` when a usage chunk will close the stream.
    const extra = withUsage ? { usage: null } : {};
    const send = (data: unknown) => writeSse(res, { data: JSON.stringify(data) });
    const piece = (text: string) => send(kind === "chat" ? chatChunk(meta, { content: text }, null, extra) : completionChunk(meta, text, null, extra));
    // Count the prompt first, so a prompt too long for the context is a 400 rather than a broken stream.
    await runner.countInputTokens(request);
    openSse(res);
    if (kind === "chat") send(chatChunk(meta, { role: "assistant", content: "" }, null, extra));
    try {
      const out = await runner.generate(request, { signal: hangUp.signal, onText: piece });
      send(kind === "chat" ? chatChunk(meta, {}, out.finishReason, extra) : completionChunk(meta, "", out.finishReason, extra));
      if (withUsage) send(usageChunk(meta, kind === "chat" ? "chat.completion.chunk" : "text_completion", usageOf(out.inputTokens, out.outputTokens)));
    } catch (err) {
      // Headers are gone: the error travels as a data event in OpenAI's shape, then the stream ends.
      send(openAIError(err).body);
    }
    writeSse(res, { data: "[DONE]" });
    res.end();
  }

  async function embeddings(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parse(EmbeddingRequest, await json(req, res), "body");
    checkModel(body.model);
    if (!runner.info().embeddings)
      throw new LilyError({ code: "INVALID_INPUT", field: "model", message: `model: ${opts.modelName} does not produce embeddings` });
    const out = await runner.embed(typeof body.input === "string" ? [body.input] : body.input);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(embeddingList(opts.modelName, out.vectors, out.inputTokens, body.encoding_format)));
  }

  async function tokenize(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parse(TokenizeRequest, await json(req, res), "body");
    checkModel(body.model);
    const sampling = { model: modelCid, maxTokens: 1, temperature: 0, topP: 1, seed: 0, stop: [] };
    const draft =
      "prompt" in body
        ? { kind: "completion", prompt: body.prompt, ...sampling }
        : { kind: "chat", messages: body.messages.map((m) => ({ role: m.role, content: messageText(m.content) })), ...sampling };
    const count = await runner.countInputTokens(parse(InferenceRequest, draft, "body"));
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ count, max_model_len: runner.info().contextLength, tokens: [] }));
  }

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>> = {
    "GET /v1/models": async (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(modelList([{ id: opts.modelName, created, owned_by: "lily" }])));
    },
    "POST /v1/chat/completions": (req, res) => answer(req, res, "chat"),
    "POST /v1/completions": (req, res) => answer(req, res, "completion"),
    "POST /v1/embeddings": embeddings,
    "POST /tokenize": tokenize,
  };

  const server = nodeHttp.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname.replace(/\/$/, "");
    const route = routes[`${req.method} ${path}`];
    const handled = route
      ? route(req, res)
      : Promise.reject(new LilyError({ code: "NOT_FOUND", field: "path", message: `${req.method} ${path}: no such route` }));
    handled.catch((err: unknown) => {
      if (!res.headersSent) sendOpenAIError(res, err);
      else res.destroy(err instanceof Error ? err : undefined);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
