// The weights check's hash (loadModel.ts sha256File) reads through one large buffer: a file longer
// than the buffer, one that ends on its boundary, and an empty one hash as the whole bytes do.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256File } from "../../src/leases/loadModel.ts";

const MiB = 1024 * 1024;

test("sha256File hashes a file as its whole bytes hash, however its length falls on the read buffer", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "lily-sha256-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const size of [0, 1, 4 * MiB, 9 * MiB + 123]) {
    const bytes = randomBytes(size);
    const path = join(dir, `f${size}`);
    writeFileSync(path, bytes);
    assert.equal(await sha256File(path), createHash("sha256").update(bytes).digest("hex"), `${size} bytes`);
  }
});

test("sha256File of a missing file rejects", async () => {
  await assert.rejects(sha256File(join(tmpdir(), "lily-no-such-weights.gguf")), (e: NodeJS.ErrnoException) => e.code === "ENOENT");
});
