// Secrets Halo hands out once (API keys, session tokens) and the digests it keeps instead of them.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** `<prefix>` followed by 32 random bytes in base64url (43 characters). */
export function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString("base64url")}`;
}

/** A short random identifier (not a secret). */
export function newId(prefix: string): string {
  return `${prefix}${randomBytes(9).toString("base64url")}`;
}

export function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** Compare two digests in time that does not depend on where they differ. */
export function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A secret's random part is 43 base64url characters. */
export function secretPattern(prefix: string): RegExp {
  return new RegExp(`^${prefix}[A-Za-z0-9_-]{43}$`);
}
