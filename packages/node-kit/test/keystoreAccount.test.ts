// openKeystoreAccount: a keystore's account usable before its key is decrypted (scrypt runs in the
// background). It must sign exactly as the key itself does, and refuse a wrong password or a
// keystore whose stated address is not its key's at the first signature.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { isLilyError } from "@lily/protocol";
import { loadOrCreateKey, openKeystoreAccount } from "../src/index.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const typedData = {
  domain: { name: "Lily", version: "1", chainId: 31337 },
  types: { Ping: [{ name: "n", type: "uint256" }] },
  primaryType: "Ping",
  message: { n: 7n },
} as const;

test("the deferred account has the keystore's address and signs as the key does", async () => {
  const path = join(tempDir("lily-ks-"), "k.json");
  const { account: direct } = loadOrCreateKey(path, "pw");
  const deferred = openKeystoreAccount(path, "pw");
  assert.equal(deferred.address, direct.address);
  assert.equal(await deferred.signMessage({ message: "hello" }), await direct.signMessage({ message: "hello" }));
  assert.equal(await deferred.signTypedData(typedData), await direct.signTypedData(typedData));
});

test("a wrong password fails the first signature with CONFIG, naming the file", async () => {
  const path = join(tempDir("lily-ks-"), "k.json");
  loadOrCreateKey(path, "pw");
  const deferred = openKeystoreAccount(path, "not-the-password");
  await assert.rejects(deferred.signMessage({ message: "hello" }), (e: unknown) => isLilyError(e, "CONFIG") && e.message.includes("wrong keystore password"));
});

test("a keystore whose stated address is not its key's signs nothing", async () => {
  const path = join(tempDir("lily-ks-"), "k.json");
  loadOrCreateKey(path, "pw");
  const ks = JSON.parse(readFileSync(path, "utf8"));
  ks.address = "1111111111111111111111111111111111111111";
  writeFileSync(path, JSON.stringify(ks));
  const deferred = openKeystoreAccount(path, "pw");
  assert.equal(deferred.address, "0x1111111111111111111111111111111111111111");
  await assert.rejects(deferred.signTypedData(typedData), (e: unknown) => isLilyError(e, "CONFIG") && e.message.includes("not its key's"));
});

test("a file that is not a keystore is refused at once", () => {
  const path = join(tempDir("lily-ks-"), "k.json");
  writeFileSync(path, "{ not json");
  assert.throws(
    () => openKeystoreAccount(path, "pw"),
    (e: unknown) => isLilyError(e, "CONFIG"),
  );
});

test("the native signing library loads at the first signature, not when the account is opened", async () => {
  const path = join(tempDir("lily-ks-"), "k.json");
  loadOrCreateKey(path, "pw");
  // In a fresh process (this one has signed already): is the binding mapped before and after?
  const script = `
    import { readFileSync } from "node:fs";
    import { setTimeout as sleep } from "node:timers/promises";
    import { openKeystoreAccount } from ${JSON.stringify(new URL("../src/index.ts", import.meta.url).href)};
    const mapped = () => readFileSync("/proc/self/maps", "utf8").includes("secp256k1");
    const account = openKeystoreAccount(${JSON.stringify(path)}, "pw");
    await sleep(1500); // the key is decrypted by now
    const before = mapped();
    await account.signMessage({ message: "hi" });
    console.log(JSON.stringify({ before, after: mapped() }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.deepEqual(JSON.parse(stdout), { before: false, after: true });
});
