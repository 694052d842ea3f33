// Calls to a provider's lease API (packages/api/src/leaseRoutes.ts): the typed JSON routes, and the
// `infer` event stream read as it arrives so each piece of text reaches the client at once.
import { INFER_PATH, InferEvent, buildPath, createClient, leaseRoutes, readSse, type InferBody } from "@lily/api";
import { LilyError, parse, wireJson } from "@lily/protocol";

export function leaseClient(endpoint: string) {
  return createClient(endpoint, leaseRoutes, { peer: `provider at ${endpoint}` });
}

/** Stream one answer's events; a refused request is thrown as the provider's LilyError. */
export async function* streamInfer(endpoint: string, leaseId: string, body: InferBody, signal?: AbortSignal): AsyncGenerator<InferEvent> {
  const url = `${endpoint.replace(/\/$/, "")}${buildPath(INFER_PATH, { id: leaseId })}`;
  let res: Response;
  try {
    res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: wireJson(body), signal });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new LilyError({ code: "UNREACHABLE", message: `provider at ${endpoint} did not answer`, details: { url }, cause: e });
  }
  if (!res.ok || !res.body) {
    const text = await res.text().catch(() => "");
    let err: LilyError | undefined;
    try {
      const json = JSON.parse(text) as { error?: { code?: string; message?: string; field?: string; details?: Record<string, unknown> } };
      if (json.error?.code) err = LilyError.fromJSON(json.error as never);
    } catch {
      // not JSON: reported below with the status
    }
    throw err ?? new LilyError({ code: "UNREACHABLE", message: `provider at ${endpoint}: HTTP ${res.status} ${text.slice(0, 200)}` });
  }
  for await (const ev of readSse(res.body)) {
    let data: unknown;
    try {
      data = JSON.parse(ev.data);
    } catch {
      throw new LilyError({ code: "INTERNAL", message: `provider at ${endpoint} sent an event that is not JSON` });
    }
    yield parse(InferEvent, { type: ev.event, ...(data as object) }, `provider at ${endpoint} event`);
  }
}
