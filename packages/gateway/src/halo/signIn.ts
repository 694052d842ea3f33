// Sign in with Ethereum (EIP-4361): check a signed message against this gateway (domain, origin,
// chain, time, a nonce we issued and nobody used) and the wallet's signature (siwe's SiweMessage),
// then consume the nonce and open a session. The nonce is consumed in one statement after every
// check passed, so two sign-ins with the same message cannot both succeed.
import type { SiweErrorType as SiweErrorTypes, SiweMessage, SiweResponse } from "siwe";
import { getAddress, isHex, recoverMessageAddress } from "viem";
import type { Database } from "@lily/node-kit";
import { LilyError } from "@lily/protocol";
import { newSecret, sha256 } from "./secrets.ts";
import { CLOCK_SKEW_MS, SESSION_PREFIX, SESSION_TTL_MS, type Session } from "./session.ts";

export interface SignInParams {
  message: string;
  signature: string;
}

export interface SignInOptions {
  /** Our host as wallets see it (EIP-4361 `domain`), e.g. `gateway.example:8080`. */
  domain: string;
  /** Our origin; when given, the message's `uri` must be on it. */
  uri?: string;
  /** When given, the message must name this chain. */
  chainId?: number;
  /** Unix milliseconds. */
  now: number;
  sessionTtlMs?: number;
}

export async function signIn(db: Database, params: SignInParams, opts: SignInOptions): Promise<Session> {
  // siwe (and the ethers it is built on, ~200 modules) is loaded at the first sign-in, not when
  // the gateway starts: an idle gateway stays small.
  const { SiweMessage, SiweErrorType } = await import("siwe");
  let siwe: SiweMessage;
  try {
    siwe = new SiweMessage(params.message);
  } catch (e) {
    // REJECT: a message that is not EIP-4361
    throw new LilyError({ code: "INVALID_INPUT", field: "message", message: `not a Sign-In with Ethereum message: ${reason(e)}`, cause: e });
  }
  // REJECT: a message signed for another site (phishing relays sign-ins from elsewhere)
  if (siwe.domain !== opts.domain) refuse("message", `the message signs in to ${siwe.domain}, not ${opts.domain}`);
  // REJECT: a message whose uri is not on our origin
  if (opts.uri !== undefined && originOf(siwe.uri) !== originOf(opts.uri)) refuse("message", `the message's uri ${siwe.uri} is not on ${originOf(opts.uri)}`);
  // REJECT: a message for another chain
  if (opts.chainId !== undefined && siwe.chainId !== opts.chainId) refuse("message", `the message is for chain ${siwe.chainId}, not ${opts.chainId}`);
  // REJECT: a message issued in the future (beyond clock skew)
  if (siwe.issuedAt && Date.parse(siwe.issuedAt) > opts.now + CLOCK_SKEW_MS) refuse("message", `the message was issued in the future (${siwe.issuedAt})`);
  // REJECT: a nonce we did not issue, or that was used or has expired
  const nonce = db.prepare("SELECT expires_at FROM siwe_nonces WHERE nonce = ?").get(siwe.nonce) as { expires_at: number } | undefined;
  if (!nonce || Number(nonce.expires_at) <= opts.now) refuse("message", "the message's nonce is unknown, already used or expired: ask for a new one");
  // REJECT: a signature that does not recover at all (checked here so siwe never logs a parse failure)
  if (!isHex(params.signature) || !(await recovers(params.message, params.signature))) refuse("signature", "the signature is not a valid wallet signature");
  const result: SiweResponse = await siwe.verify(
    { signature: params.signature, domain: opts.domain, nonce: siwe.nonce, time: new Date(opts.now).toISOString() },
    { suppressExceptions: true },
  );
  // REJECT: expired or not yet valid messages, and signatures by any wallet but the message's address
  if (!result.success) refuse(result.error?.type === SiweErrorType.INVALID_SIGNATURE ? "signature" : "message", siweReason(result, SiweErrorType));
  // REJECT: the nonce was used by a sign-in that finished first (single use, one statement)
  const consumed = db.prepare("DELETE FROM siwe_nonces WHERE nonce = ? AND expires_at > ?").run(siwe.nonce, opts.now);
  if (Number(consumed.changes) !== 1) refuse("message", "the message's nonce was already used: ask for a new one");
  db.prepare("DELETE FROM sessions WHERE expires_at <= ?").run(opts.now);
  const token = newSecret(SESSION_PREFIX);
  const address = getAddress(siwe.address);
  const expiresAt = opts.now + (opts.sessionTtlMs ?? SESSION_TTL_MS);
  db.prepare("INSERT INTO sessions (hash, address, created_at, expires_at) VALUES (?, ?, ?, ?)").run(sha256(token), address, opts.now, expiresAt);
  return { token, address, expiresAt };
}

function refuse(field: string, message: string): never {
  throw new LilyError({ code: "UNAUTHORIZED", field, message: `sign-in refused: ${message}` });
}

async function recovers(message: string, signature: `0x${string}`): Promise<boolean> {
  try {
    await recoverMessageAddress({ message, signature });
    return true;
  } catch {
    // A malformed signature is the refusal itself; the caller reports it.
    return false;
  }
}

function originOf(uri: string): string {
  try {
    return new URL(uri).origin;
  } catch {
    return uri;
  }
}

function siweReason(result: SiweResponse, SiweErrorType: typeof SiweErrorTypes): string {
  const e = result.error;
  if (!e) return "the message did not verify";
  if (e.type === SiweErrorType.EXPIRED_MESSAGE) return "the message has expired";
  if (e.type === SiweErrorType.NOT_YET_VALID_MESSAGE) return "the message is not valid yet (notBefore)";
  if (e.type === SiweErrorType.INVALID_SIGNATURE) return "the signature is not by the message's address";
  return e.type ?? String(e);
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
