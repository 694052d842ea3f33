// Loading a role's key from its keystore (created on first use). The key itself is never printed.
import { loadOrCreateKey } from "@lily/node-kit";
import { keystorePassword, paths } from "./config/home.ts";

export function roleAccount(home: string, role: string, keyPath?: string) {
  return loadOrCreateKey(keyPath ?? paths(home).key(role), keystorePassword()).account;
}
