// The JSON-RPC transport of Lily's chain clients: viem's `http` transport over nodeFetch, with
// calls made in the same turn of the event loop sent together as one JSON-RPC batch. viem's own
// builds a `Headers` for every request, and naming that global loads all of undici into the
// process even when its fetch is replaced: ~40 ms and 16 MiB in a bare Node, paid at the first RPC
// of every `lily run` and every role; here the headers are a plain record. What callers see is
// viem's: the same result, the same error classes (RpcRequestError for a JSON-RPC error,
// HttpRequestError for a failed request or a non-2xx answer, TimeoutError past the timeout), the
// same retries (viem's createTransport), and the same 10 MiB answer limit per call
// (test/rpcTransport.test.ts compares the two call for call).
//
// Why batches: under load every role reads the chain for many deals at once (the solver's escrow
// reads, a provider's pass over its deals, a job creator's view of its job), and each call was its
// own HTTP request: measured with 32 job creators and 4 providers, 5,947 requests for 132 jobs, of
// which the solver's 1,947 came in 404 bursts. An HTTP request costs both ends far more CPU than
// the call it carries. A read alone in its turn still goes as a plain request, as before, and a
// transaction's steps are never held for a batch (BATCHED).
import {
  createTransport,
  HttpRequestError,
  ResponseBodyTooLargeError,
  RpcRequestError,
  stringify,
  TimeoutError,
  type EIP1193RequestFn,
  type HttpTransport,
  type HttpTransportConfig,
} from "viem";
import { nodeFetch, readBodyLimited } from "@lily/protocol";

/** viem's default largest answer. */
const MAX_RESPONSE_BYTES = 10_485_760;

type RpcAnswer = { result?: unknown; error?: { code: number; message: string; data?: unknown } };

/**
 * The calls that wait for a batch: the reads that come in bursts (a pass over many deals or
 * parties). A transaction's steps (fill, send, receipt) come one after another and each waits for
 * the last, so they go at once: held for the turn to end and answered only with a whole batch,
 * a provider's commit step took 30-50% longer at load.
 */
const BATCHED = new Set(["eth_call", "eth_getBalance", "eth_getLogs", "eth_getBlockByNumber", "eth_blockNumber"]);

/** At most this many calls in one batch (hosted nodes commonly refuse larger ones). */
export const MAX_BATCH = 100;

let nextId = 0;

export interface RpcTransportConfig extends Pick<HttpTransportConfig, "retryCount" | "retryDelay" | "timeout"> {
  /** Send calls made in the same turn of the event loop as one JSON-RPC batch (default true). */
  batch?: boolean;
}

type RpcBody = { method: string; params?: unknown };
interface Queued {
  body: RpcBody;
  id: number;
  resolve: (result: unknown) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
}

export function rpcTransport(url: string, config: RpcTransportConfig = {}): HttpTransport {
  // One batcher per timeout, shared by every client made from this transport (a LilyClient's
  // public and wallet clients), so their calls of one turn go together too.
  const batchers = new Map<number, Batcher>();
  return ({ retryCount: retryCount_, timeout: timeout_ }) => {
    const retryCount = config.retryCount ?? retryCount_;
    const timeout = timeout_ ?? config.timeout ?? 10_000;
    const one = async (body: RpcBody, signal: AbortSignal | undefined): Promise<unknown> => {
      const answer = await post(url, { jsonrpc: "2.0", id: nextId++, ...body }, timeout, signal);
      if (answer.error) throw new RpcRequestError({ body, error: answer.error, url });
      return answer.result;
    };
    let batcher: Batcher | undefined;
    if (config.batch !== false) {
      batcher = batchers.get(timeout) ?? new Batcher(url, timeout, one);
      batchers.set(timeout, batcher);
    }
    return createTransport(
      {
        key: "http",
        name: "HTTP JSON-RPC",
        type: "http",
        retryCount,
        retryDelay: config.retryDelay,
        timeout,
        request: (({ method, params }: RpcBody, options?: { signal?: AbortSignal }) => {
          const body = { method, params };
          return batcher && BATCHED.has(method) ? batcher.call(body, options?.signal) : one(body, options?.signal);
        }) as EIP1193RequestFn,
      },
      { url, fetchOptions: undefined },
    ) as ReturnType<HttpTransport>;
  };
}

/**
 * Collects the calls of one turn of the event loop and sends them together once it ends
 * (setImmediate: after every promise continuation of the turn, so calls issued a few awaits deep
 * still join). One call alone goes as a plain request. A node that answers a batch with anything
 * but an array of answers (it does not take batches) gets each call again on its own, and no more
 * batches.
 */
class Batcher {
  private queue: Queued[] = [];
  private takesBatches = true;

  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly one: (body: RpcBody, signal: AbortSignal | undefined) => Promise<unknown>;

  constructor(url: string, timeoutMs: number, one: (body: RpcBody, signal: AbortSignal | undefined) => Promise<unknown>) {
    this.url = url;
    this.timeoutMs = timeoutMs;
    this.one = one;
  }

  call(body: RpcBody, signal: AbortSignal | undefined): Promise<unknown> {
    if (!this.takesBatches) return this.one(body, signal);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(() => this.flush());
      this.queue.push({ body, id: nextId++, resolve, reject, ...(signal && { signal }) });
    });
  }

  private flush(): void {
    const queue = this.queue;
    this.queue = [];
    for (let i = 0; i < queue.length; i += MAX_BATCH) void this.send(queue.slice(i, i + MAX_BATCH));
  }

  private async send(items: Queued[]): Promise<void> {
    if (items.length === 1) {
      const [item] = items as [Queued];
      return this.one(item.body, item.signal).then(item.resolve, item.reject);
    }
    // A caller that gives up stops waiting at once; the others' answers still come.
    const waiting = new Set(items);
    const gaveUp = new Map<Queued, () => void>();
    for (const item of items) {
      if (!item.signal) continue;
      const onAbort = () => {
        if (waiting.delete(item)) item.reject(item.signal!.reason);
      };
      gaveUp.set(item, onAbort);
      item.signal.addEventListener("abort", onAbort, { once: true });
    }
    const settle = (item: Queued, f: () => void) => {
      const onAbort = gaveUp.get(item);
      if (onAbort) item.signal!.removeEventListener("abort", onAbort);
      if (waiting.delete(item)) f();
    };
    const batchBody = items.map((item) => ({ jsonrpc: "2.0", id: item.id, ...item.body }));
    let answers: unknown;
    try {
      answers = await post(this.url, batchBody, this.timeoutMs, undefined, MAX_RESPONSE_BYTES * items.length);
    } catch (e) {
      // The request as a whole failed: each call gets the error its own request would have had.
      for (const item of items) settle(item, () => item.reject(rebody(e, item.body)));
      return;
    }
    if (!Array.isArray(answers)) {
      this.takesBatches = false;
      for (const item of items) settle(item, () => this.one(item.body, item.signal).then(item.resolve, item.reject));
      return;
    }
    const byId = new Map<unknown, RpcAnswer>();
    for (const a of answers as (RpcAnswer & { id?: unknown })[]) if (a && typeof a === "object") byId.set(a.id, a);
    for (const item of items) {
      const answer = byId.get(item.id);
      settle(item, () => {
        if (!answer) item.reject(new HttpRequestError({ body: item.body, details: "the node's batch answer has no answer for this call", url: this.url }));
        else if (answer.error) item.reject(new RpcRequestError({ body: item.body, error: answer.error, url: this.url }));
        else item.resolve(answer.result);
      });
    }
  }
}

/** An error of the whole batch's request, as the one call's own request would have raised it. */
function rebody(e: unknown, body: RpcBody): unknown {
  if (e instanceof TimeoutError) return new TimeoutError({ body, url: e.url });
  if (e instanceof HttpRequestError) {
    return new HttpRequestError({
      body,
      details: e.details,
      url: e.url,
      ...(e.cause instanceof Error && { cause: e.cause }),
      ...(e.headers && { headers: e.headers }),
      ...(e.status !== undefined && { status: e.status }),
    });
  }
  return e;
}

/** One JSON-RPC request, as viem's getHttpRpcClient makes it. */
async function post(
  url: string,
  body: Record<string, unknown> | Record<string, unknown>[],
  timeoutMs: number,
  callerSignal: AbortSignal | undefined,
  maxResponseBytes = MAX_RESPONSE_BYTES,
): Promise<RpcAnswer> {
  const timer = new AbortController();
  const timeout = timeoutMs > 0 ? setTimeout(() => timer.abort(), timeoutMs) : undefined;
  const signal = callerSignal ? AbortSignal.any([callerSignal, timer.signal]) : timer.signal;
  let res: Response;
  let text: string;
  try {
    res = await nodeFetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: stringify(body), signal });
    text = new TextDecoder().decode(await readBodyLimited(res, maxResponseBytes, (size) => new ResponseBodyTooLargeError({ maxSize: maxResponseBytes, size })));
  } catch (e) {
    if (callerSignal?.aborted) throw callerSignal.reason;
    if (timer.signal.aborted) throw new TimeoutError({ body, url });
    if (e instanceof ResponseBodyTooLargeError) throw e;
    throw new HttpRequestError({ body, cause: e as Error, url });
  } finally {
    clearTimeout(timeout);
  }
  let data: unknown;
  if (res.headers.get("content-type")?.startsWith("application/json")) {
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new HttpRequestError({ body, cause: e as Error, url });
    }
  } else {
    try {
      data = JSON.parse(text || "{}");
    } catch (e) {
      if (res.ok) throw new HttpRequestError({ body, cause: e as Error, url });
      data = { error: text };
    }
  }
  if (!res.ok) {
    const error = (data as RpcAnswer).error;
    if (typeof error?.code === "number" && typeof error.message === "string") {
      throw new RpcRequestError({ body, error, headers: res.headers, status: res.status, url });
    }
    throw new HttpRequestError({ body, details: stringify(error) || res.statusText, headers: res.headers, status: res.status, url });
  }
  return data as RpcAnswer;
}
