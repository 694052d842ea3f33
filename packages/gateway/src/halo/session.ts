// Sign-in vocabulary shared by the nonce, sign-in and session functions.

/** Session tokens: `lily_ss_` and 43 base64url characters; only their sha-256 is stored. */
export const SESSION_PREFIX = "lily_ss_";

/** How long a nonce may wait for its signed message. */
export const NONCE_TTL_MS = 10 * 60_000;

/** How long a session lasts after sign-in. */
export const SESSION_TTL_MS = 24 * 60 * 60_000;

/** Clocks of a wallet and this gateway may disagree by this much. */
export const CLOCK_SKEW_MS = 5 * 60_000;

export interface Session {
  token: string;
  address: `0x${string}`;
  /** Unix milliseconds. */
  expiresAt: number;
}
