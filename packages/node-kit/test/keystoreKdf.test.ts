// A keystore key derivation started ahead (keystoreKdf.ts, what `lily run` starts before its
// modules load): the open that follows takes it instead of deriving again, exactly once, and only
// when every input matches; a head start with another password, or for a file that is no
// keystore, neither unlocks anything nor stands in the way of the right open.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { isLilyError } from "@lily/protocol";
import { loadOrCreateKey, openKeystoreAccount } from "../src/index.ts";
import { derivationsAhead, startKeystoreDerivation } from "../src/keystoreKdf.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const keystore = (password = "pw") => {
  const path = join(tempDir("lily-kdf-"), "k.json");
  return { path, direct: loadOrCreateKey(path, password).account };
};

test("a derivation started ahead is taken by the open, once, and the account signs as the key does", async () => {
  const { path, direct } = keystore();
  const before = derivationsAhead();
  assert.equal(startKeystoreDerivation(path, "pw"), true);
  assert.equal(startKeystoreDerivation(path, "pw"), true, "the same inputs again");
  assert.equal(derivationsAhead(), before + 1, "one derivation for the same inputs");
  const account = openKeystoreAccount(path, "pw");
  assert.equal(await account.signMessage({ message: "early" }), await direct.signMessage({ message: "early" }));
  assert.equal(derivationsAhead(), before, "the open took it");
  // A second open derives its own: the one started ahead was used up.
  assert.equal(await openKeystoreAccount(path, "pw").signMessage({ message: "again" }), await direct.signMessage({ message: "again" }));
});

test("a head start with another password unlocks nothing and does not stand in the way of the right one", async () => {
  const { path, direct } = keystore();
  const before = derivationsAhead();
  assert.equal(startKeystoreDerivation(path, "not-the-password"), true);
  assert.equal(await openKeystoreAccount(path, "pw").signMessage({ message: "m" }), await direct.signMessage({ message: "m" }));
  assert.equal(derivationsAhead(), before + 1, "the right password's open did not take the other's derivation");
  await assert.rejects(
    openKeystoreAccount(path, "not-the-password").signMessage({ message: "m" }),
    (e: unknown) => isLilyError(e, "CONFIG") && e.message.includes("wrong keystore password"),
  );
  assert.equal(derivationsAhead(), before, "the wrong password's open took its own and failed");
});

test("nothing starts for a missing file, a file that is not JSON, or one that is not a scrypt keystore", () => {
  const dir = tempDir("lily-kdf-");
  const before = derivationsAhead();
  assert.equal(startKeystoreDerivation(join(dir, "missing.json"), "pw"), false);
  writeFileSync(join(dir, "junk.json"), "{ not json");
  assert.equal(startKeystoreDerivation(join(dir, "junk.json"), "pw"), false);
  writeFileSync(join(dir, "pbkdf2.json"), JSON.stringify({ crypto: { kdf: "pbkdf2", kdfparams: { salt: "00", c: 1 } } }));
  assert.equal(startKeystoreDerivation(join(dir, "pbkdf2.json"), "pw"), false);
  writeFileSync(join(dir, "odd.json"), JSON.stringify({ crypto: { kdf: "scrypt", kdfparams: { salt: "00", n: "16384", r: 8, p: 1, dklen: 32 } } }));
  assert.equal(startKeystoreDerivation(join(dir, "odd.json"), "pw"), false);
  assert.equal(derivationsAhead(), before);
});
