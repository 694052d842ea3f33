// How much of this machine the provider's own deals hold: a deal it signed holds the job's
// resources until its openBy (anyone holding both signatures may open it until then), and an
// opened deal until its result is on chain. The solver keeps its own count; this one is what the
// provider signs by, so a solver that forgets a deal cannot make it sign more than it can run.
import type { LocalDeal } from "./db.ts";
import { NO_RESOURCES, addResources, type Resources } from "./resources.ts";

/** Resources held at `now` (unix seconds) by these deals. */
export function heldCapacity(deals: readonly LocalDeal[], now: number): Resources {
  let held = NO_RESOURCES;
  for (const d of deals) if (holds(d, now)) held = addResources(held, d.needs);
  return held;
}

/** How many of these deals hold capacity at `now`: what maxConcurrentJobs bounds. */
export function heldDeals(deals: readonly LocalDeal[], now: number): number {
  return deals.filter((d) => holds(d, now)).length;
}

function holds(d: LocalDeal, now: number): boolean {
  if (d.status === "opened" || d.status === "ran") return true;
  // Past its openBy a signed deal can no longer open: nothing to hold ready for.
  return d.status === "signed" && BigInt(now) <= d.deal.openBy;
}
