// How a provider produces the result it commits for a deal it opened. The honest provider runs
// the job (runJob.ts). The devnet injects other strategies to show how the protocol catches
// misbehaviour (packages/cli/src/devnet/adversaries.ts); the provider itself never branches on
// who it is.
import type { Hex } from "viem";
import type { Executor, JobSource, LoadJobOptions } from "@lily/executor";
import type { Logger } from "@lily/node-kit";
import type { StoreClient } from "@lily/store";
import { runJob } from "./runJob.ts";

/** One opened deal's job. */
export interface JobToRun {
  dealId: Hex;
  /** The module manifest's CID. */
  module: string;
  /** The inputs record's CID. */
  inputs: string;
  /** Milliseconds until the deal's deadline, less a margin for the commit. */
  timeLeftMs: number;
}

export interface JobContext {
  /** Where results are stored. */
  store: StoreClient;
  /** Where the job's module and inputs come from: the blocks kept when the deal was signed, then the store. */
  source: JobSource;
  executor: Executor & LoadJobOptions;
  logger: Logger;
  workDir: string;
}

export interface JobOutcome {
  /** The result manifest's CID: what is committed on chain and signed. */
  resultCid: string;
  exitCode: number;
  limit?: string;
  durationMs: number;
}

export interface ProviderStrategy {
  /** The result to commit; a rejection is retried on the next pass while the deadline allows. */
  produceResult(job: JobToRun, ctx: JobContext): Promise<JobOutcome>;
}

/** Run the job in the sandbox and commit what it produced. */
export const honestStrategy: ProviderStrategy = { produceResult: runJob };
