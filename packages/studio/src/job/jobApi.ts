// The gateway's routes behind the History and job pages (packages/gateway/src/http/jobRecordRoutes.ts):
// the caller's jobs with status, cost and verification outcome; one job's signed records and
// transactions; and challenging its result. Amounts are decimal strings of base units.
import { call, getJson, type JobView } from "../gateway.ts";

export type Verdict =
  | "unchecked"
  | "pending"
  | "window-open"
  | "unchallenged"
  | "awaiting-draw"
  | "not-drawn"
  | "mediating"
  | "upheld"
  | "slashed"
  | "agreed"
  | "timed-out";

export interface Outcome {
  /** The deals' on-chain state (settled, committed, challenged, slashed…), or the journal's stage before any opened. */
  status: string;
  cost: { price: string; paid: string | null; received: string };
  verification: {
    policy: string;
    checked: boolean;
    challenged: boolean;
    verdict: Verdict;
    window_closes_at: number | null;
    challengeable: boolean;
  };
}

/** A job as GET /v1/history lists it: the job as every job route shows it, with its outcome. */
export interface HistoryJob extends Outcome, JobView {}

export interface Signer {
  role: string;
  address: string;
  signature: string | null;
  verified: boolean;
  problem: string | null;
}

export interface SignedRecord {
  kind: "job-offer" | "resource-offer" | "deal" | "result";
  label: string;
  /** Which deal it belongs to (a replica group has several). */
  deal?: string;
  id: string;
  id_kind: "eip712" | "cid";
  on_chain?: string | null;
  matches_chain?: boolean | null;
  signers: Signer[];
  body: Record<string, unknown> | null;
}

export interface Transaction {
  name: string;
  deal: string;
  tx: string;
  block: string;
  gas_used: string;
  args: Record<string, unknown>;
}

export interface JobRecord extends Outcome {
  id: string;
  module: string;
  stage: string;
  error: string | null;
  created_at: number;
  chain_id: number;
  deals_contract: string;
  /** The chain's time when read (unix seconds), for the window's countdown. */
  now: number;
  deals: { id: string; state: string; price: string; collateral: string }[];
  records: SignedRecord[];
  transactions: Transaction[];
}

export const history = (token: string, signal?: AbortSignal) => getJson<{ data: HistoryJob[] }>("v1/history", { auth: token, signal }).then((r) => r.data);

export const jobRecord = (token: string, id: string, signal?: AbortSignal) =>
  getJson<JobRecord>(`v1/jobs/${encodeURIComponent(id)}/record`, { auth: token, signal });

export async function challenge(token: string, id: string, reason: string): Promise<{ deal: string; tx: string }> {
  const res = await call(`v1/jobs/${encodeURIComponent(id)}/challenge`, { auth: token, body: reason ? { reason } : {} });
  return res.json() as Promise<{ deal: string; tx: string }>;
}

/** Whether nothing more can happen to the job (no transaction is still to come). */
export function isFinal(o: Outcome, stage: string): boolean {
  if (["no-match", "failed", "refunded"].includes(stage)) return true;
  return ["settled", "slashed", "timedOut"].includes(o.status);
}
