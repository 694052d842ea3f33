// Who is calling, as Halo established it: an API key (for inference and jobs) or a signed-in
// wallet session (for managing keys, jobs and spending in the studio). Handlers see only this.
import type http from "node:http";
import type { Address } from "viem";

export interface Caller {
  owner: Address;
  /** The API key used, when the caller presented one (absent for a session). */
  keyId?: string;
}

/** Money a request may spend, held from its key's limit until the answer is paid. */
export interface SpendHold {
  settle(actual: bigint): void;
}

export interface GatewayAuth {
  /** The caller of an inference request: an API key is required (401 otherwise), then its rate limit (429). */
  apiCaller(req: http.IncomingMessage): Caller;
  /** The caller of a management request: an API key or a session token. */
  anyCaller(req: http.IncomingMessage): Caller;
  /** Hold `max` against the key's spending limit (429 insufficient_quota when it would pass it). */
  hold(caller: Caller, max: bigint): SpendHold;
}

/** The bearer token of a request, if any. */
export function bearer(req: http.IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m?.[1];
}
