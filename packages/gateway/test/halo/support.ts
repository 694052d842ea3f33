// What Halo's tests share: a fresh database (in a temporary home, so it can be reopened), wallets,
// and an assertion on LilyError codes.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { privateKeyToAccount } from "viem/accounts";
import type { Hex } from "viem";
import { isLilyError, type ErrorCode } from "@lily/protocol";
import type { Database } from "@lily/node-kit";
import { openHaloDb } from "../../src/halo/index.ts";
import { tempDir } from "../../../../test/support/tempDir.ts";

export const alice = privateKeyToAccount(`0x${"a1".repeat(32)}` as Hex);
export const bob = privateKeyToAccount(`0x${"b2".repeat(32)}` as Hex);

export const T0 = Date.parse("2025-06-01T12:00:00.000Z");

const homes: string[] = [];
process.on("exit", () => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

export function freshHome(): string {
  const home = tempDir("lily-halo-");
  homes.push(home);
  return home;
}

export function freshDb(): { db: Database; home: string } {
  const home = freshHome();
  return { db: openHaloDb(home), home };
}

/** Assert `fn` throws a LilyError with `code`; returns it for further checks. */
export function throwsCode(fn: () => unknown, code: ErrorCode): import("@lily/protocol").LilyError {
  try {
    fn();
  } catch (e) {
    assert.ok(isLilyError(e, code), `expected ${code}, got ${e instanceof Error ? `${(e as { code?: string }).code}: ${e.message}` : String(e)}`);
    return e;
  }
  assert.fail(`expected ${code}, nothing was thrown`);
}

export async function rejectsCode(p: Promise<unknown>, code: ErrorCode): Promise<import("@lily/protocol").LilyError> {
  try {
    await p;
  } catch (e) {
    assert.ok(isLilyError(e, code), `expected ${code}, got ${e instanceof Error ? `${(e as { code?: string }).code}: ${e.message}` : String(e)}`);
    return e;
  }
  assert.fail(`expected ${code}, nothing was thrown`);
}
