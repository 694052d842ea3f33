// Loading a role's key from its keystore (created on first use), or an existing keystore's key
// (`lily gateway --dev-account-key`). The key itself is never printed.
import { existsSync } from "node:fs";
import type { Hex } from "viem";
import { loadOrCreateKey, openKeystoreAccount } from "@lily/node-kit";
import { LilyError } from "@lily/protocol";
import { DEVNET_PASSWORD, keystorePassword, paths } from "./config/home.ts";

export function roleAccount(home: string, role: string, keyPath?: string) {
  const password = keystorePassword();
  // A key made under the devnet's public password gets the light derivation (node-kit's keystore.ts).
  return loadOrCreateKey(keyPath ?? paths(home).key(role), password, { publicPassword: password === DEVNET_PASSWORD }).account;
}

/**
 * The role's account, its key decrypted in the background when the keystore exists (scrypt, ~45
 * ms of CPU under a secret password, ~4 under the devnet's, then overlaps the command's first
 * round trips; `lily run` measured in bench/run.ts). Its first signature reports a wrong password.
 */
export function roleSigner(home: string, role: string, keyPath?: string) {
  const path = keyPath ?? paths(home).key(role);
  return existsSync(path) ? openKeystoreAccount(path, keystorePassword()) : roleAccount(home, role, keyPath);
}

/** The private key in the keystore at `path`, which must exist (nothing is created). */
export function keystoreKey(path: string, flag: string): Hex {
  if (!existsSync(path)) throw new LilyError({ code: "CONFIG", field: flag, message: `${flag}: no keystore at ${path}` });
  return loadOrCreateKey(path, keystorePassword()).privateKey;
}
