// What the Run page asks the gateway beyond the job itself: a file input's bytes into the store
// (POST /v1/files, answered with its CID), a quote before paying (POST /v1/quote), the job's deals,
// transactions and result files (GET /v1/jobs/:id/result), and one result file's bytes, fetched
// with the bearer token (an <img src> could not send it) and shown from a blob URL.
import { call, GatewayError, gatewayUrl, getJson } from "../gateway.ts";

/** The gateway's limit for one file input (MAX_INPUT_FILE_BYTES in the gateway's fileRoutes.ts): checked here first, so a too-large file is named before it is sent. */
export const MAX_UPLOAD_BYTES = 32 * 1024 * 1024;

export interface Uploaded {
  cid: string;
  size: number;
}

/** Upload `file` as the job input `field`; the CID of exactly its bytes. */
export async function uploadFile(token: string, field: string, file: File): Promise<Uploaded> {
  // REJECT: the gateway would answer 413 naming the input; say so without sending the bytes
  if (file.size > MAX_UPLOAD_BYTES)
    throw new GatewayError(413, "invalid_input", `inputs.${field}: ${file.name} is ${mib(file.size)}, over the gateway's limit of ${mib(MAX_UPLOAD_BYTES)}`);
  if (file.size === 0) throw new GatewayError(400, "invalid_input", `inputs.${field}: ${file.name} is empty`);
  const res = await fetch(gatewayUrl(`v1/files?field=${encodeURIComponent(field)}`), {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream", accept: "application/json" },
    body: file,
  });
  const body = (await res.json().catch(() => ({}))) as { cid?: string; size?: number; error?: { code?: string; message?: string } };
  if (!res.ok || !body.cid) throw new GatewayError(res.status, body.error?.code ?? String(res.status), body.error?.message ?? `upload failed (${res.status})`);
  return { cid: body.cid, size: body.size ?? file.size };
}

export interface JobQuote {
  policy: string;
  describe: string;
  provider: string;
  price: string;
  collateral: string;
  mediation_fee: string;
  extra_cost: string;
  locked_extra: string;
  per_job_catch: number;
  catch_probability: number;
  jobs: number;
  notes: string[];
  unsafe: string | null;
}

export const quoteJob = (token: string, body: { module: string; max_price: string; policy: string; jobs?: number }, signal?: AbortSignal) =>
  getJson<JobQuote>("v1/quote", { auth: token, body, signal });

export interface ResultFile {
  name: string;
  cid: string;
  media_type: string;
  /** Relative to the gateway, e.g. v1/jobs/0x…/files/text.txt. */
  url: string;
}

export interface DealOnChain {
  id: string;
  state: string;
  events: { name: string; tx: string; block: string }[];
}

export interface JobResultView {
  id: string;
  module: string;
  stage: string;
  deals: DealOnChain[];
  result: { cid: string; exit_code: number; files: ResultFile[] } | null;
}

export const jobResult = (token: string, id: string) => getJson<JobResultView>(`v1/jobs/${id}/result`, { auth: token });

/** A result file's bytes as a Blob of its media type. */
export async function fetchFile(token: string, file: ResultFile): Promise<Blob> {
  const res = await call(file.url, { auth: token });
  return res.blob();
}

export const mib = (bytes: number): string =>
  bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} bytes`;
