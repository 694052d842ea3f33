// The keystore's key derivation (scrypt), and a way to start it before anything else loads. At a
// secret password's parameters scrypt takes 40-120 ms (the first run in a process also maps its
// 16 MiB; ~4 ms at the light ones of the devnet's public password, keystore.ts),
// and `lily run` signs its job offer about 300 ms after it starts: derived only when the keystore
// is opened, the key was the last thing the offer waited for. A command that will sign starts the
// derivation on libuv's thread pool first (startKeystoreDerivation), while its modules load on the
// main thread; opening the keystore then takes that derivation instead of starting another.
// Only node:crypto and node:fs, so the CLI can load this before anything heavy.
import { scrypt, scryptSync } from "node:crypto";
import { readFileSync } from "node:fs";

export interface ScryptParams {
  n: number;
  r: number;
  p: number;
  dklen: number;
  /** Hex, as the keystore stores it. */
  salt: string;
}

/** Derivations started ahead, by everything that determines their output. */
const started = new Map<string, Promise<Buffer>>();
const idOf = (password: string, k: ScryptParams) => JSON.stringify([password, k.salt.toLowerCase(), k.n, k.r, k.p, k.dklen]);
const options = (k: ScryptParams) => ({ N: k.n, r: k.r, p: k.p, maxmem: 256 * k.n * k.r });

export function deriveSync(password: string, k: ScryptParams): Buffer {
  return scryptSync(Buffer.from(password, "utf8"), Buffer.from(k.salt, "hex"), k.dklen, options(k));
}

/** The derived key off the main thread: the one started ahead for these inputs if there is one (taken once), else a new one. */
export function deriveAsync(password: string, k: ScryptParams): Promise<Buffer> {
  const id = idOf(password, k);
  const ahead = started.get(id);
  if (ahead) {
    started.delete(id);
    return ahead;
  }
  return new Promise((resolve, reject) =>
    scrypt(Buffer.from(password, "utf8"), Buffer.from(k.salt, "hex"), k.dklen, options(k), (e, key) => (e ? reject(e) : resolve(key))),
  );
}

/**
 * Starts deriving the key of the keystore at `path` with `password`, for a later deriveAsync with
 * the same inputs; true when one was started (or already was). Only a head start: a file that is
 * missing, unreadable or not a scrypt keystore starts nothing here and is reported by the open
 * that needs it, as if this had not run; a failed derivation is likewise left for that open.
 */
export function startKeystoreDerivation(path: string, password: string): boolean {
  let k: ScryptParams | undefined;
  try {
    const ks = JSON.parse(readFileSync(path, "utf8")) as { crypto?: { kdf?: unknown; kdfparams?: ScryptParams } };
    if (ks.crypto?.kdf === "scrypt") k = ks.crypto.kdfparams;
  } catch {
    return false; // see above: the open reports it
  }
  if (!k || typeof k.salt !== "string" || ![k.n, k.r, k.p, k.dklen].every(Number.isSafeInteger)) return false;
  const id = idOf(password, k);
  if (started.has(id)) return true;
  const derivation = deriveAsync(password, k);
  derivation.catch(() => {}); // taken and awaited by the open; unhandled only if nothing opens it
  started.set(id, derivation);
  return true;
}

/** How many derivations started ahead wait to be taken (for tests: each is taken by one open). */
export function derivationsAhead(): number {
  return started.size;
}
