// A role's key in an Ethereum V3 keystore file (scrypt + aes-128-ctr, keccak MAC), created on
// first run with mode 0600 and never printed. The password comes from the caller (the CLI reads
// LILY_KEYSTORE_PASSWORD, with a devnet default that it warns about).
import { randomBytes, scryptSync, createCipheriv, createDecipheriv, randomUUID, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { keccak256, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { LilyError } from "@lily/protocol";

// Lighter than geth's default (n=262144) so devnet start-up stays fast; still memory-hard.
const SCRYPT = { n: 16384, r: 8, p: 1, dklen: 32 };

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

function derive(password: string, salt: Buffer, k: { n: number; r: number; p: number; dklen: number }): Buffer {
  return scryptSync(Buffer.from(password, "utf8"), salt, k.dklen, { N: k.n, r: k.r, p: k.p, maxmem: 256 * k.n * k.r });
}

function mac(derived: Buffer, ciphertext: Buffer): Buffer {
  return Buffer.from(keccak256(Buffer.concat([derived.subarray(16, 32), ciphertext])).slice(2), "hex");
}

export function encryptKey(privateKey: Hex, password: string): KeystoreV3 {
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const derived = derive(password, salt, SCRYPT);
  const cipher = createCipheriv("aes-128-ctr", derived.subarray(0, 16), iv);
  const ciphertext = Buffer.concat([cipher.update(Buffer.from(privateKey.slice(2), "hex")), cipher.final()]);
  return {
    version: 3,
    id: randomUUID(),
    address: privateKeyToAccount(privateKey).address.slice(2).toLowerCase(),
    crypto: {
      cipher: "aes-128-ctr",
      ciphertext: ciphertext.toString("hex"),
      cipherparams: { iv: iv.toString("hex") },
      kdf: "scrypt",
      kdfparams: { ...SCRYPT, salt: salt.toString("hex") },
      mac: mac(derived, ciphertext).toString("hex"),
    },
  };
}

export function decryptKey(ks: KeystoreV3, password: string, path = "keystore"): Hex {
  if (ks.version !== 3 || ks.crypto?.kdf !== "scrypt" || ks.crypto.cipher !== "aes-128-ctr") {
    throw new LilyError({ code: "CONFIG", field: path, message: `${path}: unsupported keystore format` });
  }
  const k = ks.crypto.kdfparams;
  const derived = derive(password, Buffer.from(k.salt, "hex"), k);
  const ciphertext = Buffer.from(ks.crypto.ciphertext, "hex");
  if (!timingSafeEqual(mac(derived, ciphertext), Buffer.from(ks.crypto.mac, "hex"))) {
    throw new LilyError({ code: "CONFIG", field: path, message: `${path}: wrong keystore password`, hint: "set LILY_KEYSTORE_PASSWORD" });
  }
  const decipher = createDecipheriv("aes-128-ctr", derived.subarray(0, 16), Buffer.from(ks.crypto.cipherparams.iv, "hex"));
  return `0x${Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("hex")}`;
}

/** Load the key at `path`, creating a new random key there on first use. */
export function loadOrCreateKey(path: string, password: string): { account: PrivateKeyAccount; privateKey: Hex; created: boolean } {
  if (existsSync(path)) {
    let ks: KeystoreV3;
    try {
      ks = JSON.parse(readFileSync(path, "utf8")) as KeystoreV3;
    } catch (e) {
      throw new LilyError({ code: "CONFIG", field: path, message: `${path}: keystore is not valid JSON`, cause: e });
    }
    const privateKey = decryptKey(ks, password, path);
    return { account: privateKeyToAccount(privateKey), privateKey, created: false };
  }
  const privateKey = generatePrivateKey();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(encryptKey(privateKey, password), null, 2), { mode: 0o600, flag: "wx" });
  return { account: privateKeyToAccount(privateKey), privateKey, created: true };
}
