// The last step of every job, whatever its policy: download the result the chain committed to
// (its CID rebuilt from the on-chain digest, every file re-hashed by the store client), record it
// in the journal and describe it to the caller.
import { join } from "node:path";
import { readFileSync, existsSync } from "node:fs";
import type { Hex } from "viem";
import type { DealStateName } from "@lily/chain";
import type { Deal } from "@lily/protocol";
import type { JobCreatorContext } from "./context.ts";
import type { JobEntry } from "./journal.ts";
import type { OnProgress } from "./progress.ts";
import type { JobResult } from "./waitForResult.ts";

export interface Delivery {
  dealId: Hex;
  deal: Deal;
  resultCid: string;
  /** What was paid for the job (k prices under replicate). */
  price: bigint;
  settlement: DealStateName;
  txs: JobResult["txs"];
  replicas?: JobResult["replicas"];
  outDir?: string;
}

export async function deliverResult(ctx: JobCreatorContext, entry: JobEntry, d: Delivery, progress: OnProgress): Promise<JobResult> {
  const outDir = d.outDir ?? join(process.cwd(), "lily-results", d.dealId.slice(2, 14));
  const manifest = await ctx.store.downloadResult(d.resultCid, outDir);
  progress({ stage: "downloaded", dealId: d.dealId, outDir });
  entry.stage = d.settlement === "settled" ? "completed" : d.settlement === "slashed" ? "refunded" : "committed";
  entry.resultCid = d.resultCid;
  entry.outDir = outDir;
  ctx.journal.put(entry);
  const stdoutPath = join(outDir, "stdout");
  return {
    jobOfferId: entry.jobOfferId,
    dealId: d.dealId,
    deal: d.deal,
    provider: d.deal.provider,
    price: d.price,
    resultCid: d.resultCid,
    manifest,
    outDir,
    stdout: existsSync(stdoutPath) ? readFileSync(stdoutPath, "utf8") : "",
    exitCode: manifest.exitCode,
    settlement: d.settlement,
    txs: d.txs,
    ...(d.replicas && { replicas: d.replicas }),
  };
}
