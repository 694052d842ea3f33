// What the provider tells the solver, each record signed by it, so that nobody else can end its
// deal or post its result. Informational: money moves only on chain, so a report that does not
// arrive is logged and the deal goes on.
import type { Hex, LocalAccount } from "viem";
import type { Client, SolverRoutes } from "@lily/api";
import { MAX_TEXT, NO_TX_HASH, isLilyError, signRecord, type DealProgress, type Domain, type ReportedDealStatus, type Result } from "@lily/protocol";

export interface Reporter {
  /** Report how a deal is going (`txHash` of the transaction that opened or ended it, `error` why it was rejected). */
  status(dealId: Hex, status: ReportedDealStatus, o?: { txHash?: Hex; error?: string }): Promise<void>;
  /** Post the result committed on chain, retrying a solver that does not answer a few times. */
  result(dealId: Hex, result: { resultCid: string; exitCode: number }): Promise<void>;
}

/** How many times a result is sent to a solver that does not answer, a second apart. */
const RESULT_ATTEMPTS = 3;

export function createReporter(ctx: { account: LocalAccount; domain: Domain; solver: Client<SolverRoutes>; clock: () => number }): Reporter {
  const me = ctx.account.address;
  return {
    async status(dealId, status, o = {}) {
      const progress: DealProgress = {
        dealId,
        provider: me,
        status,
        txHash: o.txHash ?? NO_TX_HASH,
        at: BigInt(Math.floor(ctx.clock() / 1000)),
        // The wire schema bounds free text; a long revert reason is cut, not refused.
        error: (o.error ?? "").slice(0, MAX_TEXT),
      };
      const signature = await signRecord(ctx.account, ctx.domain, "DealProgress", progress);
      await ctx.solver.postDealStatus({ params: { id: dealId }, body: { progress, signature } });
    },
    async result(dealId, { resultCid, exitCode }) {
      const result: Result = { dealId, provider: me, result: resultCid, exitCode };
      const signature = await signRecord(ctx.account, ctx.domain, "Result", result);
      for (let attempt = 1; ; attempt++) {
        try {
          await ctx.solver.postResult({ params: { id: dealId }, body: { result, signature } });
          return;
        } catch (e) {
          if (attempt >= RESULT_ATTEMPTS || !isLilyError(e, "UNREACHABLE")) throw e;
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    },
  };
}
