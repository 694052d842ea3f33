// A file input too big for the store is refused naming the input, not the HTTP body, before
// anything is uploaded when the size is known to be over the store's limit, and re-labelled when
// the store itself refuses it. Runs a real store; tests the SDK's prepareInputs, which `lily run`
// calls before it signs anything.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { isLilyError } from "@lily/protocol";
import { createLogger } from "@lily/node-kit";
import { startStore, StoreClient, defaultStoreOptions } from "@lily/store";
import { prepareInputs } from "@lily/sdk";
import { loadCatalog } from "@lily/modules";
import { tempDir } from "../../../test/support/tempDir.ts";

const dir = tempDir("lily-inputs-");
const wordcount = loadCatalog().find((m) => m.ref === "wordcount@1.0.0")!.manifest;
const logger = createLogger({ module: "store", level: "error" });

/** A store that takes blocks of at most 1 KiB, so "too big" is cheap to reach. */
const small = await startStore({ ...defaultStoreOptions, dataDir: join(dir, "small"), maxBlockBytes: 1024 }, { logger });
const big = await startStore({ ...defaultStoreOptions, dataDir: join(dir, "big") }, { logger });
after(() => Promise.all([small.close(), big.close()]));

test("a file input within the store's limit is uploaded and its CID stands in the inputs", async () => {
  const path = join(dir, "hello.txt");
  writeFileSync(path, "hello world\n");
  const { inputs } = await prepareInputs(wordcount, { file: path }, new StoreClient(big.url));
  assert.match(String(inputs.file), /^bafk/);
});

test("a file over the store's known limit is refused as inputs.file before any byte is uploaded", async () => {
  const path = join(dir, "huge.bin");
  writeFileSync(path, "");
  truncateSync(path, defaultStoreOptions.maxBlockBytes + 1); // sparse: nothing is written to disk
  const before = big.blocks.count();
  await assert.rejects(prepareInputs(wordcount, { file: path }, new StoreClient(big.url)), (e) => {
    assert.ok(isLilyError(e, "INVALID_INPUT"), String(e));
    assert.equal(e.field, "inputs.file");
    assert.match(
      e.message,
      new RegExp(
        `^inputs\\.file: .*huge\\.bin is ${defaultStoreOptions.maxBlockBytes + 1} bytes, over the store's limit of ${defaultStoreOptions.maxBlockBytes} bytes`,
      ),
    );
    assert.deepEqual(e.details, { path, sizeBytes: defaultStoreOptions.maxBlockBytes + 1, limitBytes: defaultStoreOptions.maxBlockBytes });
    return true;
  });
  assert.equal(big.blocks.count(), before, "nothing was stored");
});

test("a file the store refuses as too big is named as inputs.file with its size, and nothing is stored", async () => {
  const path = join(dir, "four-kib.txt");
  writeFileSync(path, "x".repeat(4096));
  await assert.rejects(prepareInputs(wordcount, { file: path }, new StoreClient(small.url)), (e) => {
    assert.ok(isLilyError(e, "INVALID_INPUT"), String(e));
    assert.equal(e.field, "inputs.file");
    assert.match(e.message, /^inputs\.file: .*four-kib\.txt is 4096 bytes, over the store's limit/);
    return true;
  });
  assert.equal(small.blocks.count(), 0);
});

test("a file the store refuses as too big is told the store's own limit", async () => {
  const path = join(dir, "four-kib.txt");
  writeFileSync(path, "x".repeat(4096));
  await assert.rejects(prepareInputs(wordcount, { file: path }, new StoreClient(small.url)), (e) => {
    assert.ok(isLilyError(e, "INVALID_INPUT"));
    assert.match(e.message, /over the store's limit of 1024 bytes/);
    return true;
  });
});
