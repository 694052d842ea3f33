// A role's key in an Ethereum V3 keystore file (scrypt + aes-128-ctr, keccak MAC), created on
// first run with mode 0600 and never printed. The password comes from the caller (the CLI reads
// LILY_KEYSTORE_PASSWORD, with a devnet default that it warns about).
import { randomBytes, createCipheriv, createDecipheriv, randomUUID, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { getAddress, isAddressEqual, keccak256, type Hex } from "viem";
import { generatePrivateKey, toAccount, type LocalAccount, type PrivateKeyAccount } from "viem/accounts";
import { LilyError, keyAccount } from "@lily/protocol";
import { deriveAsync, deriveSync } from "./keystoreKdf.ts";

// scrypt's cost for a secret password: lighter than geth's default (n=262144) so devnet start-up
// stays fast; still memory-hard (16 MiB, ~50 ms of CPU here).
const SCRYPT = { n: 16384, r: 8, p: 1, dklen: 32 };
/**
 * The cost for a password that is no secret (the devnet's, printed in the README): a costly
 * derivation there protects nothing anyone could not decrypt anyway, and it was ~45 ms of CPU in
 * every `lily run` (about 20 ms of its wall time, on 2 cores shared with the devnet). Still a
 * standard V3 keystore: its file records the cost it was made with, which decryption reads.
 */
const SCRYPT_PUBLIC_PASSWORD = { n: 1024, r: 8, p: 1, dklen: 32 };

export interface KeystoreOptions {
  /** The password is public (the devnet's default): derive with the light cost. */
  publicPassword?: boolean;
}

interface KeystoreV3 {
  version: 3;
  id: string;
  address: string;
  crypto: {
    cipher: "aes-128-ctr";
    ciphertext: string;
    cipherparams: { iv: string };
    kdf: "scrypt";
    kdfparams: { n: number; r: number; p: number; dklen: number; salt: string };
    mac: string;
  };
}

function mac(derived: Buffer, ciphertext: Buffer): Buffer {
  return Buffer.from(keccak256(Buffer.concat([derived.subarray(16, 32), ciphertext])).slice(2), "hex");
}

export function encryptKey(privateKey: Hex, password: string, opts: KeystoreOptions = {}): KeystoreV3 {
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const cost = opts.publicPassword ? SCRYPT_PUBLIC_PASSWORD : SCRYPT;
  const derived = deriveSync(password, { ...cost, salt: salt.toString("hex") });
  const cipher = createCipheriv("aes-128-ctr", derived.subarray(0, 16), iv);
  const ciphertext = Buffer.concat([cipher.update(Buffer.from(privateKey.slice(2), "hex")), cipher.final()]);
  return {
    version: 3,
    id: randomUUID(),
    address: keyAccount(privateKey).address.slice(2).toLowerCase(),
    crypto: {
      cipher: "aes-128-ctr",
      ciphertext: ciphertext.toString("hex"),
      cipherparams: { iv: iv.toString("hex") },
      kdf: "scrypt",
      kdfparams: { ...cost, salt: salt.toString("hex") },
      mac: mac(derived, ciphertext).toString("hex"),
    },
  };
}

export function decryptKey(ks: KeystoreV3, password: string, path = "keystore"): Hex {
  checkFormat(ks, path);
  return unlock(ks, deriveSync(password, ks.crypto.kdfparams), path);
}

/** decryptKey with scrypt on libuv's thread pool: the event loop (and module loading) go on meanwhile. */
export async function decryptKeyAsync(ks: KeystoreV3, password: string, path = "keystore"): Promise<Hex> {
  checkFormat(ks, path);
  const derived = await deriveAsync(password, ks.crypto.kdfparams);
  return unlock(ks, derived, path);
}

function checkFormat(ks: KeystoreV3, path: string): void {
  if (ks.version !== 3 || ks.crypto?.kdf !== "scrypt" || ks.crypto.cipher !== "aes-128-ctr") {
    throw new LilyError({ code: "CONFIG", field: path, message: `${path}: unsupported keystore format` });
  }
}

function unlock(ks: KeystoreV3, derived: Buffer, path: string): Hex {
  const ciphertext = Buffer.from(ks.crypto.ciphertext, "hex");
  if (!timingSafeEqual(mac(derived, ciphertext), Buffer.from(ks.crypto.mac, "hex"))) {
    throw new LilyError({ code: "CONFIG", field: path, message: `${path}: wrong keystore password`, hint: "set LILY_KEYSTORE_PASSWORD" });
  }
  const decipher = createDecipheriv("aes-128-ctr", derived.subarray(0, 16), Buffer.from(ks.crypto.cipherparams.iv, "hex"));
  return `0x${Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("hex")}`;
}

/**
 * The account of an existing keystore, usable at once: its address is the one the file names, and
 * the key is decrypted in the background (scrypt off the main thread) while the caller does its
 * first round trips; every signature waits for it. A wrong password, or a file whose address is
 * not its key's, fails the first signature. Creating a key stays with loadOrCreateKey.
 */
export function openKeystoreAccount(path: string, password: string): LocalAccount {
  let ks: KeystoreV3;
  try {
    ks = JSON.parse(readFileSync(path, "utf8")) as KeystoreV3;
  } catch (e) {
    throw new LilyError({ code: "CONFIG", field: path, message: `${path}: keystore is not valid JSON`, cause: e });
  }
  checkFormat(ks, path);
  let address: Hex;
  try {
    address = getAddress(`0x${String(ks.address).replace(/^0x/, "")}`);
  } catch (e) {
    throw new LilyError({ code: "CONFIG", field: path, message: `${path}: keystore has no valid address`, cause: e });
  }
  const privateKey = decryptKeyAsync(ks, password, path);
  privateKey.catch(() => {}); // reported by the first signature that needs it
  // The signing account (and with it the native signing library, ~5 MiB resident) is made at the
  // first signature, not at start: an idle role may never sign anything.
  let key: Promise<PrivateKeyAccount> | undefined;
  const signer = () =>
    (key ??= privateKey.then((k) => {
      const account = keyAccount(k);
      // REJECT: a keystore whose stated address is not its key's would sign for someone else
      if (!isAddressEqual(account.address, address))
        throw new LilyError({ code: "CONFIG", field: path, message: `${path}: the keystore's address is not its key's (${account.address})` });
      return account;
    }));
  return toAccount({
    address,
    sign: async (p) => (await signer()).sign(p),
    signMessage: async (p) => (await signer()).signMessage(p),
    signTransaction: async (tx, o) => (await signer()).signTransaction(tx, o),
    signTypedData: async (td) => (await signer()).signTypedData(td),
  });
}

/** Load the key at `path`, creating a new random key there on first use (with `opts`' cost). */
export function loadOrCreateKey(path: string, password: string, opts: KeystoreOptions = {}): { account: PrivateKeyAccount; privateKey: Hex; created: boolean } {
  if (existsSync(path)) {
    let ks: KeystoreV3;
    try {
      ks = JSON.parse(readFileSync(path, "utf8")) as KeystoreV3;
    } catch (e) {
      throw new LilyError({ code: "CONFIG", field: path, message: `${path}: keystore is not valid JSON`, cause: e });
    }
    const privateKey = decryptKey(ks, password, path);
    return { account: keyAccount(privateKey), privateKey, created: false };
  }
  const privateKey = generatePrivateKey();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(encryptKey(privateKey, password, opts), null, 2), { mode: 0o600, flag: "wx" });
  return { account: keyAccount(privateKey), privateKey, created: true };
}
