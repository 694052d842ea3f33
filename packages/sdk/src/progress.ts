// Progress events a job goes through, reported to the caller as they happen.
import type { Hex } from "viem";

export type Progress =
  | { stage: "inputs"; inputsCid: string }
  | { stage: "offered"; jobOfferId: Hex }
  | { stage: "matched"; dealId: Hex; provider: Hex; price: bigint }
  | { stage: "signed"; dealId: Hex }
  | { stage: "opened"; dealId: Hex; txHash?: Hex }
  | { stage: "running"; dealId: Hex }
  | { stage: "committed"; dealId: Hex; resultCid: string; txHash?: Hex }
  | { stage: "downloaded"; dealId: Hex; outDir: string }
  | { stage: "timed-out"; dealId: Hex }
  /** The signed deal was not opened by its openBy: nothing was locked; waiting for a new match. */
  | { stage: "lapsed"; dealId: Hex }
  /** The job creator gave up on its job offer and withdrew it from the solver. */
  | { stage: "cancelled"; jobOfferId: Hex; reason: string };

export type OnProgress = (p: Progress) => void;
