// Reports to the solver off the job's hot path. "opened" and "running" are informational (money
// moves only on chain), yet each is a signature and an HTTP round trip to a solver that may be
// busy; awaited, they held the provider's capacity while the job had not started. Here they are
// sent in the background, one deal's reports one after another in the order given, and the
// result waits for the reports before it (`drained`), so the solver still hears
// opened → running → result for each deal (a job that starts as its deal opens: running, naming
// the opening, → result; applyStep.ts).
import type { StepContext } from "./stepContext.ts";
import { bestEffort } from "./stepContext.ts";

const queues = new WeakMap<StepContext, Map<string, Promise<unknown>>>();

function queueOf(ctx: StepContext): Map<string, Promise<unknown>> {
  const known = queues.get(ctx);
  if (known) return known;
  const q = new Map<string, Promise<unknown>>();
  queues.set(ctx, q);
  return q;
}

/** Send `send` after the deal's earlier reports, without waiting for it; a failure is logged (bestEffort). */
export function reportLater(ctx: StepContext, dealId: string, what: string, send: () => Promise<void>): void {
  const q = queueOf(ctx);
  const key = dealId.toLowerCase();
  const next = (q.get(key) ?? Promise.resolve()).then(() => bestEffort(ctx, what, send));
  q.set(key, next);
  // The last report of a deal leaves nothing behind once sent.
  void next.finally(() => {
    if (q.get(key) === next) q.delete(key);
  });
}

/** Wait until every report queued for the deal so far was sent (or given up). */
export async function drained(ctx: StepContext, dealId: string): Promise<void> {
  await queueOf(ctx).get(dealId.toLowerCase());
}
