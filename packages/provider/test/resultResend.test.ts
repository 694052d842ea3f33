// A settled deal's signed Result that the solver did not take is sent again by later passes: on
// LilyTrustDeals it is the result's only word, so losing it to a solver that did not answer (or to
// a crash right after settling) would leave the job creator, who paid, without its result. Found
// by the chaos test on a --trust-deals devnet. Kept as sent once taken or refused; given up once the
// job creator stops waiting (the deadline plus the signed result's grace).
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { LilyError, SIGNED_RESULT_GRACE_SECONDS } from "@lily/protocol";
import { ProviderDb, type LocalDeal } from "../src/db.ts";
import { postResult } from "../src/applyStep.ts";
import type { StepContext } from "../src/stepContext.ts";
import { signedDeal } from "./localDeals.ts";
import { testLogger } from "../../../test/support/localNetwork.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const GRACE = Number(SIGNED_RESULT_GRACE_SECONDS);

/** A deal settled on chain with its result stored, its Result owed (as commit leaves it before posting). */
const settled = (n: number): LocalDeal & { resultCid: string } => ({
  ...signedDeal(n),
  status: "settled",
  resultCid: `bafy-result-${n}`,
  exitCode: 0,
  resultOwed: true,
});

/** What postResult touches, with a solver that answers `answers` in turn (an error is thrown). */
function stepContext(db: ProviderDb, answers: (Error | undefined)[]) {
  const posted: string[] = [];
  const ctx = {
    db,
    logger: testLogger("result-resend"),
    cache: { drop: async () => {} },
    report: {
      result: async (dealId: string) => {
        const answer = answers.shift();
        if (answer) throw answer;
        posted.push(dealId);
      },
    },
  } as unknown as StepContext;
  return { ctx, posted };
}

const unreachable = () => new LilyError({ code: "UNREACHABLE", field: "solverUrl", message: "solver did not answer" });

test("a Result the solver did not answer is sent again until taken, across a restart, and then never again", async () => {
  const path = join(tempDir("lily-provider-resend-"), "provider.db");
  const db = new ProviderDb(path);
  const deal = settled(1);
  db.put(deal);
  const deadline = Number(deal.deal.deadline);
  const { ctx } = stepContext(db, [unreachable()]);
  await postResult(ctx, deal);
  assert.equal(db.get(deal.id)!.resultOwed, true, "not taken: still owed");
  db.close();

  const again = new ProviderDb(path);
  const due = again.resultsToResend(deadline, GRACE);
  assert.deepEqual(
    due.map((d) => d.id),
    [deal.id],
    "a restarted provider still owes it",
  );
  const { ctx: later, posted } = stepContext(again, [undefined]);
  await postResult(later, { ...due[0]!, resultCid: due[0]!.resultCid! });
  assert.deepEqual(posted, [deal.id]);
  assert.equal(again.get(deal.id)!.resultOwed, undefined);
  assert.deepEqual(again.resultsToResend(deadline, GRACE), [], "taken: owed no more");
  again.close();
});

test("a Result the solver refused is not sent again; one no longer waited for (past the deadline plus the grace) is given up", async () => {
  const db = new ProviderDb(join(tempDir("lily-provider-resend-"), "provider.db"));
  const refused = settled(2);
  const late = settled(3);
  const running = { ...settled(4), status: "opened" as const };
  for (const d of [refused, late, running]) db.put(d);
  const { ctx } = stepContext(db, [new LilyError({ code: "CONFLICT", field: "result", message: "already committed a different result" })]);
  await postResult(ctx, refused);
  assert.equal(db.get(refused.id)!.resultOwed, undefined, "refused: sending again would not change the answer");
  const deadline = Number(late.deal.deadline);
  assert.deepEqual(
    db.resultsToResend(deadline + GRACE, GRACE).map((d) => d.id),
    [late.id],
    "until the deadline plus the grace; only settled deals",
  );
  assert.deepEqual(db.resultsToResend(deadline + GRACE + 1, GRACE), [], "past it the job creator has ended the job");
  assert.equal(db.get(late.id)!.resultOwed, true, "a read changes nothing");
  assert.deepEqual(db.giveUpResults(deadline + GRACE, GRACE), [], "still waited for");
  assert.deepEqual(db.giveUpResults(deadline + GRACE + 1, GRACE).sort(), [late.id, running.id].sort(), "whatever the deal's state");
  assert.equal(db.get(late.id)!.resultOwed, undefined, "owed no more: out of the index");
  // A deal settled without anything owed (all history before this change) is never read for it.
  db.put({ ...settled(5), resultOwed: false });
  assert.deepEqual(db.resultsToResend(0, GRACE), []);
  db.close();
});
