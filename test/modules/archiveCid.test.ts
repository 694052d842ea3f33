// The build computes an image archive's CID without a store (archiveCid); the store computes it when
// the archive is put (putFile). They must agree, or a manifest would name an archive no store holds.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { cidForBytes, cidForRecord } from "@lily/protocol";
import { putFile, type BlockClient } from "@lily/store";
import { archiveCid } from "../../modules/scripts/images/archiveCid.ts";
import { tempDir } from "../support/tempDir.ts";

const dir = tempDir("lily-archive-cid-");
after(() => rmSync(dir, { recursive: true, force: true }));

/** A store in memory: enough of StoreClient for putFile. */
function memoryStore(): BlockClient {
  const blocks = new Map<string, Uint8Array>();
  return {
    has: async (cid) => blocks.has(cid),
    putBytes: async (bytes) => {
      const cid = cidForBytes(bytes);
      blocks.set(cid, bytes.slice());
      return cid;
    },
    putRecord: async (value) => {
      const { cid, bytes } = cidForRecord(value);
      blocks.set(cid, bytes);
      return cid;
    },
    getBytes: async (cid) => blocks.get(cid)!,
    getRecord: async () => {
      throw new Error("not used");
    },
  };
}

const CHUNK = 1024;
for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2.5 * CHUNK, 4 * CHUNK]) {
  test(`a ${size}-byte file gets the CID the store gives it (chunks of ${CHUNK})`, async () => {
    const path = join(dir, `file-${size}`);
    writeFileSync(path, randomBytes(size));
    const computed = await archiveCid(path, CHUNK);
    assert.equal(computed.size, size);
    assert.equal(computed.cid, await putFile(memoryStore(), path, { chunkSize: CHUNK }));
  });
}

test("with the store's default chunk size too", async () => {
  const path = join(dir, "three-and-a-bit-mib");
  writeFileSync(path, randomBytes(3 * 1024 * 1024 + 17));
  assert.equal((await archiveCid(path)).cid, await putFile(memoryStore(), path));
});
