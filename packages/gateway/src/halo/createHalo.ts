// Halo as the gateway uses it: one database (halo.sqlite under the gateway's home), one in-memory
// rate limiter, and the functions of this folder bound to them and to the clock. `auth` is what
// request handlers see (who is calling, holds on their spending); the rest serves /v1/auth and
// /v1/keys. Keys are managed only with a session, never with another key, so a leaked key cannot
// mint more.
import type http from "node:http";
import type { Address } from "viem";
import { LilyError } from "@lily/protocol";
import type { Database } from "@lily/node-kit";
import { bearer, type Caller, type GatewayAuth, type SpendHold } from "../http/caller.ts";
import { API_KEY_PREFIX } from "./apiKey.ts";
import { authenticateKey } from "./authenticateKey.ts";
import { createApiKey, type CreatedApiKey } from "./createApiKey.ts";
import { issueNonce, type IssuedNonce } from "./issueNonce.ts";
import { listApiKeys } from "./listApiKeys.ts";
import { openHaloDb } from "./migrations.ts";
import { createRateLimiter } from "./rateLimiter.ts";
import { RESERVATION_TTL_MS, reserveSpend } from "./reserveSpend.ts";
import { revokeApiKey } from "./revokeApiKey.ts";
import { SESSION_PREFIX, SESSION_TTL_MS, type Session } from "./session.ts";
import { sessionFor } from "./sessionFor.ts";
import { settleSpend } from "./settleSpend.ts";
import { signIn } from "./signIn.ts";
import { signOut } from "./signOut.ts";
import { spendingOf } from "./spendingOf.ts";

export interface HaloOptions {
  /** The gateway's home directory (":memory:" for a throwaway database). */
  home: string;
  /** Sign-in messages must name this chain. */
  chainId: number;
  sessionTtlMs?: number;
  /** How long a request's spending hold counts if it never settles. */
  reservationTtlMs?: number;
  /** Unix milliseconds; tests move it. */
  now?: () => number;
}

/** A key as its owner sees it over HTTP: amounts as decimal strings, times in Unix seconds. */
export interface KeyView {
  id: string;
  name: string | null;
  prefix: string;
  limit: string | null;
  spent: string;
  rpm: number | null;
  created_at: number;
  revoked_at: number | null;
}

export interface SpendingView {
  address: Address;
  spent: string;
  reserved: string;
  requests: number;
  keys: { id: string; name: string | null; prefix: string; limit: string | null; spent: string; reserved: string; requests: number; revoked: boolean }[];
}

export interface HaloService {
  auth: GatewayAuth;
  db: Database;
  nonce(): IssuedNonce;
  /** `origin` is the gateway as users reach it: messages must name its host and be on its origin. */
  signIn(message: string, signature: `0x${string}`, origin: URL): Promise<Session>;
  signOut(token: string): boolean;
  /** The signed-in wallet of a management request (a session token is required; an API key is refused). */
  sessionOwner(req: http.IncomingMessage): Address;
  spending(owner: Address): SpendingView;
  createKey(owner: Address, params: { name?: string; limitWei?: bigint; rpm?: number }): CreatedApiKey;
  listKeys(owner: Address): KeyView[];
  revokeKey(owner: Address, id: string): void;
  close(): void;
}

export function createHalo(opts: HaloOptions): HaloService {
  const db = openHaloDb(opts.home);
  const now = opts.now ?? Date.now;
  const limiter = createRateLimiter();
  const reservationTtl = opts.reservationTtlMs ?? RESERVATION_TTL_MS;

  const keyCaller = (token: string | undefined): Caller => {
    // REJECT: a session token where an API key is needed (inference is paid from a key's limit)
    if (token?.startsWith(SESSION_PREFIX))
      throw new LilyError({
        code: "UNAUTHORIZED",
        field: "authorization",
        message: "This endpoint needs an API key, not a sign-in session.",
        hint: "create one with `lily keys create`",
      });
    const key = authenticateKey(db, token);
    if (key.rpm !== null) limiter.checkRate(key.id, key.rpm, now());
    return { owner: key.owner, keyId: key.id };
  };

  const auth: GatewayAuth = {
    apiCaller: (req) => keyCaller(bearer(req)),
    anyCaller: (req) => {
      const token = bearer(req);
      if (token?.startsWith(SESSION_PREFIX)) return { owner: sessionFor(db, token, now()) };
      return keyCaller(token);
    },
    hold: (caller, max): SpendHold => {
      // A session has no spending limit of its own; only keys pay for answers.
      if (caller.keyId === undefined) return { settle: () => {} };
      const reservation = reserveSpend(db, caller.keyId, max, now(), reservationTtl);
      return { settle: (actual) => void settleSpend(db, reservation, actual, now()) };
    },
  };

  return {
    auth,
    db,
    nonce: () => issueNonce(db, now()),
    signIn: (message, signature, origin) =>
      signIn(
        db,
        { message, signature },
        { domain: origin.host, uri: origin.origin, chainId: opts.chainId, now: now(), sessionTtlMs: opts.sessionTtlMs ?? SESSION_TTL_MS },
      ),
    signOut: (token) => signOut(db, token),
    sessionOwner: (req) => {
      const token = bearer(req);
      // REJECT: managing keys with a key (a leaked key must not mint more)
      if (token?.startsWith(API_KEY_PREFIX))
        throw new LilyError({
          code: "UNAUTHORIZED",
          field: "authorization",
          message: "Keys and spending are managed after signing in with your wallet, not with an API key.",
        });
      return sessionFor(db, token, now());
    },
    spending: (owner) => {
      const s = spendingOf(db, owner, now());
      return {
        address: s.owner,
        spent: s.spentWei.toString(),
        reserved: s.reservedWei.toString(),
        requests: s.requests,
        keys: s.keys.map((k) => ({
          id: k.id,
          name: k.name,
          prefix: k.prefix,
          limit: k.limitWei?.toString() ?? null,
          spent: k.spentWei.toString(),
          reserved: k.reservedWei.toString(),
          requests: k.requests,
          revoked: k.revoked,
        })),
      };
    },
    createKey: (owner, p) => createApiKey(db, { owner, name: p.name, limitWei: p.limitWei, rpm: p.rpm, now: now() }),
    listKeys: (owner) =>
      listApiKeys(db, owner).map((k) => ({
        id: k.id,
        name: k.name,
        prefix: k.prefix,
        limit: k.limitWei?.toString() ?? null,
        spent: k.spentWei.toString(),
        rpm: k.rpm,
        created_at: Math.floor(k.createdAt / 1000),
        revoked_at: k.revokedAt === null ? null : Math.floor(k.revokedAt / 1000),
      })),
    revokeKey: (owner, id) => revokeApiKey(db, { id, owner, now: now() }),
    close: () => db.close(),
  };
}
