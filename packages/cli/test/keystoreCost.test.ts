// The CLI's keystores: the light derivation only under the devnet's public password.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { roleAccount } from "../src/keys.ts";
import { paths } from "../src/config/home.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const costOf = (path: string) => (JSON.parse(readFileSync(path, "utf8")) as { crypto: { kdfparams: { n: number } } }).crypto.kdfparams.n;

function withPassword<T>(password: string | undefined, f: () => T): T {
  const before = process.env.LILY_KEYSTORE_PASSWORD;
  if (password === undefined) delete process.env.LILY_KEYSTORE_PASSWORD;
  else process.env.LILY_KEYSTORE_PASSWORD = password;
  try {
    return f();
  } finally {
    if (before === undefined) delete process.env.LILY_KEYSTORE_PASSWORD;
    else process.env.LILY_KEYSTORE_PASSWORD = before;
  }
}

test("a role's key under the devnet's default password is derived cheaply; under LILY_KEYSTORE_PASSWORD at the standard cost", () => {
  const home = tempDir("lily-kscost-");
  withPassword(undefined, () => roleAccount(home, "job-creator"));
  withPassword("a secret of the operator's", () => roleAccount(home, "provider-1"));
  withPassword("lily-devnet", () => roleAccount(home, "solver"));
  assert.equal(costOf(paths(home).key("job-creator")), 1024);
  assert.equal(costOf(paths(home).key("provider-1")), 16384);
  assert.equal(costOf(paths(home).key("solver")), 1024, "the default password written out is still public");
});
