import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TINY_MODEL_NAME, tinyModelBytes, writeTinyModel } from "../../../../modules/scripts/tinyModel.ts";
import { createLlamaRunner } from "../../src/model/llamaRunner.ts";
import { tempDir } from "../../../../test/support/tempDir.ts";

test("the tiny model file is byte-identical across two writes, and the second write leaves it alone", () => {
  const dir = tempDir("lily-tiny-");
  const first = writeTinyModel(join(dir, "a.gguf"));
  const second = writeTinyModel(join(dir, "b.gguf"));
  assert.deepEqual(readFileSync(first.path), readFileSync(second.path));
  assert.equal(first.sha256, second.sha256);
  assert.equal(writeTinyModel(first.path).written, false);
  assert.ok(first.sizeBytes > 256 * 1024 && first.sizeBytes < 1024 * 1024, `about half a megabyte, got ${first.sizeBytes}`);
});

test("another seed gives other weights", () => {
  assert.notDeepEqual(tinyModelBytes({ seed: 1 }), tinyModelBytes({ seed: 2 }));
});

test("the tiny model is a GGUF v3 file named in its metadata that llama.cpp loads with its context length", async () => {
  const bytes = tinyModelBytes();
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), "GGUF");
  assert.equal(new DataView(bytes.buffer).getUint32(4, true), 3);
  assert.ok(Buffer.from(bytes).includes(TINY_MODEL_NAME));
  const path = writeTinyModel(join(tempDir("lily-tiny-"), "tiny.gguf")).path;
  const runner = await createLlamaRunner({ modelPath: path });
  try {
    assert.deepEqual(runner.info(), { contextLength: 512, embeddings: true });
  } finally {
    await runner.close();
  }
});
