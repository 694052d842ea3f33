// The EIP-4361 message a wallet signs to sign in to a gateway, for clients (the CLI, the studio) to
// build. Any EIP-4361 message naming our domain and a fresh nonce is accepted, e.g. viem's
// createSiweMessage; this one fills the fields a gateway checks.
import { SiweMessage } from "siwe";
import { getAddress } from "viem";

export interface SignInMessageParams {
  address: string;
  /** The gateway's host (and port), as the wallet sees it: `new URL(gatewayUrl).host`. */
  domain: string;
  /** The gateway's origin: `new URL(gatewayUrl).origin`. */
  uri: string;
  chainId: number;
  nonce: string;
  /** Unix milliseconds: the message's issuedAt. */
  now: number;
  /** How long the signed message may wait before it is used (default 10 minutes). */
  validForMs?: number;
  statement?: string;
}

export function createSignInMessage(p: SignInMessageParams): string {
  return new SiweMessage({
    domain: p.domain,
    address: getAddress(p.address),
    statement: p.statement ?? "Sign in to the Lily gateway.",
    uri: p.uri,
    version: "1",
    chainId: p.chainId,
    nonce: p.nonce,
    issuedAt: new Date(p.now).toISOString(),
    expirationTime: new Date(p.now + (p.validForMs ?? 10 * 60_000)).toISOString(),
  }).prepareMessage();
}
