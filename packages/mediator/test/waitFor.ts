// Waiting on a running mediator, without timed assertions: poll until its record of a dispute
// says what the test waits for, or fail naming what never happened.
import type { Hex } from "viem";
import type { RunningMediator } from "../src/mediator.ts";
import type { Dispute } from "../src/dispute.ts";

export async function eventually<T>(what: string, read: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const disputeOf = (m: RunningMediator, key: Hex): Dispute | undefined => m.disputes().find((d) => d.key === key.toLowerCase());

/** The dispute once the mediator has it in one of `statuses`. */
export const settledIn = (m: RunningMediator, key: Hex, statuses: Dispute["status"][]) =>
  eventually(`dispute ${key.slice(0, 10)} ${statuses.join("/")}`, () => {
    const d = disputeOf(m, key);
    return d && statuses.includes(d.status) ? d : undefined;
  });
