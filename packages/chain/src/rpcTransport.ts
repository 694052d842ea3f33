// The JSON-RPC transport of Lily's chain clients: viem's `http` transport, one request per call
// (no batching), over nodeFetch. viem's own builds a `Headers` for every request, and naming that
// global loads all of undici into the process even when its fetch is replaced: ~40 ms and 16 MiB
// in a bare Node, paid at the first RPC of every `lily run` and every role; here the headers are a
// plain record. What callers see is viem's: the same result, the same error classes
// (RpcRequestError for a JSON-RPC error, HttpRequestError for a failed request or a non-2xx
// answer, TimeoutError past the timeout), the same retries (viem's createTransport), and the same
// 10 MiB answer limit (test/rpcTransport.test.ts compares the two call for call).
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

let nextId = 0;

export function rpcTransport(url: string, config: Pick<HttpTransportConfig, "retryCount" | "retryDelay" | "timeout"> = {}): HttpTransport {
  return ({ retryCount: retryCount_, timeout: timeout_ }) => {
    const retryCount = config.retryCount ?? retryCount_;
    const timeout = timeout_ ?? config.timeout ?? 10_000;
    return createTransport(
      {
        key: "http",
        name: "HTTP JSON-RPC",
        type: "http",
        retryCount,
        retryDelay: config.retryDelay,
        timeout,
        request: (async ({ method, params }: { method: string; params?: unknown }, options?: { signal?: AbortSignal }) => {
          const body = { method, params };
          const answer = await post(url, { jsonrpc: "2.0", id: nextId++, ...body }, timeout, options?.signal);
          if (answer.error) throw new RpcRequestError({ body, error: answer.error, url });
          return answer.result;
        }) as EIP1193RequestFn,
      },
      { url, fetchOptions: undefined },
    ) as ReturnType<HttpTransport>;
  };
}

/** One JSON-RPC request, as viem's getHttpRpcClient makes it. */
async function post(url: string, body: Record<string, unknown>, timeoutMs: number, callerSignal: AbortSignal | undefined): Promise<RpcAnswer> {
  const timer = new AbortController();
  const timeout = timeoutMs > 0 ? setTimeout(() => timer.abort(), timeoutMs) : undefined;
  const signal = callerSignal ? AbortSignal.any([callerSignal, timer.signal]) : timer.signal;
  let res: Response;
  let text: string;
  try {
    res = await nodeFetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: stringify(body), signal });
    text = new TextDecoder().decode(
      await readBodyLimited(res, MAX_RESPONSE_BYTES, (size) => new ResponseBodyTooLargeError({ maxSize: MAX_RESPONSE_BYTES, size })),
    );
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
