// Carrying a module's files into the store through the gateway (POST /v1/publish/artifacts and
// /v1/publish/manifests, signed in): the raw bytes with the CID they must hash to, which the
// gateway checks before the store sees them. Refusals come back as GatewayError (code, message).
import { GatewayError, gatewayUrl } from "../gateway.ts";

export async function uploadBlock(kind: "artifacts" | "manifests", cid: string, bytes: Uint8Array, token: string): Promise<void> {
  const res = await fetch(gatewayUrl(`v1/publish/${kind}?cid=${encodeURIComponent(cid)}`), {
    method: "POST",
    headers: { "content-type": "application/octet-stream", authorization: `Bearer ${token}`, accept: "application/json" },
    body: bytes as BodyInit,
  });
  if (res.ok) return;
  const text = await res.text();
  let e: { code?: string; message?: string; param?: string | null } = {};
  try {
    e = (JSON.parse(text) as { error?: typeof e }).error ?? {};
  } catch {
    // not JSON: the status says it
  }
  const message = res.status === 413 ? "The file is larger than the gateway takes in one upload (32 MiB)." : (e.message ?? (text || res.statusText));
  throw new GatewayError(res.status, e.code ?? String(res.status), e.param ? `${message} (field ${e.param})` : message);
}
