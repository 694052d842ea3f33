import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { isLilyError } from "@lily/protocol";
import { loadOrCreateKey } from "../src/index.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const dir = tempDir("lily-ks-");

test("a key is created on first use and the same key is loaded after", () => {
  const path = join(dir, "a", "key.json");
  const first = loadOrCreateKey(path, "pw");
  assert.equal(first.created, true);
  const again = loadOrCreateKey(path, "pw");
  assert.equal(again.created, false);
  assert.equal(again.account.address, first.account.address);
});

test("the keystore file is private and never holds the key in clear", () => {
  const path = join(dir, "b.json");
  const { privateKey } = loadOrCreateKey(path, "pw");
  assert.equal(statSync(path).mode & 0o077, 0);
  assert.equal(readFileSync(path, "utf8").includes(privateKey.slice(2)), false);
});

test("a wrong password is refused with a CONFIG error naming the file", () => {
  const path = join(dir, "c.json");
  loadOrCreateKey(path, "right");
  assert.throws(
    () => loadOrCreateKey(path, "wrong"),
    (e) => isLilyError(e, "CONFIG") && e.field === path,
  );
});

test("a key made under a public password is derived cheaply, one under a secret password at the standard cost, and both load", () => {
  const costOf = (path: string) => (JSON.parse(readFileSync(path, "utf8")) as { crypto: { kdfparams: { n: number } } }).crypto.kdfparams.n;
  const secret = join(dir, "secret.json");
  const open = join(dir, "public.json");
  const a = loadOrCreateKey(secret, "correct horse battery staple");
  const b = loadOrCreateKey(open, "lily-devnet", { publicPassword: true });
  assert.equal(costOf(secret), 16384);
  assert.equal(costOf(open), 1024);
  assert.equal(loadOrCreateKey(secret, "correct horse battery staple").account.address, a.account.address);
  // Loading reads the cost from the file, whatever the caller says of the password now.
  assert.equal(loadOrCreateKey(open, "lily-devnet").account.address, b.account.address);
  assert.throws(
    () => loadOrCreateKey(open, "lily-devnet!"),
    (e) => isLilyError(e, "CONFIG"),
  );
});
