// How a role process tells whoever started it that it is up: one line for people, and an IPC
// message when it was forked by `lily devnet` (the supervisor waits for it).
import type { Output } from "./output.ts";
import { dropStartupGarbage } from "./startupGarbage.ts";

export interface ReadyMessage {
  type: "ready";
  role: string;
  url?: string;
  address?: string;
}

export function announceReady(out: Output, msg: Omit<ReadyMessage, "type">): void {
  out.line(`${msg.role} ready${msg.url ? ` on ${msg.url}` : ""}${msg.address ? ` as ${msg.address}` : ""}`);
  process.send?.({ type: "ready", ...msg } satisfies ReadyMessage);
}

/** Keep a role running until SIGINT/SIGTERM, then run its shutdown. */
export function runUntilSignal(shutdown: () => Promise<void>): Promise<never> {
  // The role is up and from here on mostly idle: what start-up left behind need not stay resident.
  dropStartupGarbage();
  return new Promise(() => {
    const stop = (code: number) => void shutdown().finally(() => process.exit(code));
    process.once("SIGINT", () => stop(0));
    process.once("SIGTERM", () => stop(0));
    // When the devnet supervisor dies, its IPC channel closes: don't outlive it.
    process.once("disconnect", () => stop(0));
  });
}
