// The last step of every job, whatever its policy: download the result the chain committed to
// (its CID rebuilt from the on-chain digest, every file re-hashed by the store client), record it
// in the journal and describe it to the caller.
import { join } from "node:path";
import { readFileSync, existsSync } from "node:fs";
import type { Hex } from "viem";
import type { DealStateName } from "@lily/chain";
import type { Deal, ResultManifest } from "@lily/protocol";
import type { JobCreatorContext } from "./context.ts";
import type { JobEntry } from "./journal.ts";
import type { OnProgress } from "./progress.ts";
import type { Delivery } from "./nextStep.ts";

export interface JobResult {
  jobOfferId: Hex;
  dealId: Hex;
  deal: Deal;
  /** A deal routed to LilyTrustDeals: the nonce it opened under there (its provider's pick). */
  trustNonce?: bigint;
  provider: Hex;
  price: bigint;
  resultCid: string;
  manifest: ResultManifest;
  outDir: string;
  stdout: string;
  exitCode: number;
  /**
   * The deal's state when the result was downloaded: `settled` (provider paid), or under a policy
   * that settles later, `committed` (challenge window open, or audit draw pending), `challenged`
   * (a mediator is re-running it) or `slashed` (the provider was proven wrong; you were refunded).
   */
  settlement: DealStateName;
  /** Under replicate(k): how each replica ended. */
  replicas?: { dealId: Hex; provider: Hex; state: DealStateName }[];
  txs: { open?: Hex; commit?: Hex };
}

export async function deliverResult(ctx: JobCreatorContext, entry: JobEntry, d: Delivery & { outDir: string }, progress: OnProgress): Promise<JobResult> {
  const manifest = await ctx.store.downloadResult(d.resultCid, d.outDir);
  progress({ stage: "downloaded", dealId: d.dealId, outDir: d.outDir });
  entry.stage = d.settlement === "settled" ? "completed" : d.settlement === "slashed" ? "refunded" : "committed";
  entry.resultCid = d.resultCid;
  entry.outDir = d.outDir;
  ctx.journal.put(entry);
  const stdoutPath = join(d.outDir, "stdout");
  return {
    jobOfferId: entry.jobOfferId,
    dealId: d.dealId,
    deal: d.deal,
    ...(entry.trustNonce !== undefined && entry.dealId === d.dealId && { trustNonce: entry.trustNonce }),
    provider: d.deal.provider,
    price: d.price,
    resultCid: d.resultCid,
    manifest,
    outDir: d.outDir,
    stdout: existsSync(stdoutPath) ? readFileSync(stdoutPath, "utf8") : "",
    exitCode: manifest.exitCode,
    settlement: d.settlement,
    txs: d.txs,
    ...(d.replicas && { replicas: d.replicas }),
  };
}
