// GPU detection from nvidia-smi's own words: the parser on output as the driver prints it (this
// machine has no GPU, so the texts are written here as nvidia-smi prints them on such machines),
// and detectGpus on an nvidia-smi that is absent, finds no device, or prints that output.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isLilyError } from "@lily/protocol";
import { detectGpus, parseNvidiaSmi } from "../src/docker/nvidiaSmi.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

// nvidia-smi --query-gpu=index,name,memory.total,uuid --format=csv,noheader,nounits on a DGX A100 node (one GPU shown).
const A100 = "0, NVIDIA A100-SXM4-80GB, 81920, GPU-5e2f1b8a-3c4d-9e0f-7a6b-1c2d3e4f5a6b\n";
// The same query with --format=csv (header and units) on a workstation with two RTX 4090s.
const TWO_4090 = `index, name, memory.total [MiB], uuid
0, NVIDIA GeForce RTX 4090, 24564 MiB, GPU-0b3c8f7e-1d2a-6b5c-4e3f-9a8b7c6d5e4f
1, NVIDIA GeForce RTX 4090, 24564 MiB, GPU-7f6e5d4c-3b2a-1908-f7e6-d5c4b3a29180
`;
// --format=csv,noheader: units without the header.
const UNITS_NO_HEADER = "0, NVIDIA GeForce RTX 4090, 24564 MiB, GPU-0b3c8f7e-1d2a-6b5c-4e3f-9a8b7c6d5e4f\n";
// A unified-memory part (DGX Spark's GB10) reports no dedicated memory.
const GB10 = "0, NVIDIA GB10, [N/A], GPU-a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90\n";
// An older driver: names without the NVIDIA prefix, a field it cannot query.
const V100 =
  "0, Tesla V100-SXM2-16GB, 16160, GPU-1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809\n1, Tesla V100-SXM2-16GB, [Not Supported], GPU-2b3c4d5e-6f70-8192-a3b4-c5d6e7f8091a\n";
// With the driver loaded and no GPU, nvidia-smi prints this and exits 6.
const NO_DEVICES = "No devices were found\n";

test("an A100 in the noheader,nounits form", () => {
  assert.deepEqual(parseNvidiaSmi(A100), [{ index: 0, name: "NVIDIA A100-SXM4-80GB", memoryMb: 81920, uuid: "GPU-5e2f1b8a-3c4d-9e0f-7a6b-1c2d3e4f5a6b" }]);
});

test("two RTX 4090s in the header-and-units form", () => {
  assert.deepEqual(parseNvidiaSmi(TWO_4090), [
    { index: 0, name: "NVIDIA GeForce RTX 4090", memoryMb: 24564, uuid: "GPU-0b3c8f7e-1d2a-6b5c-4e3f-9a8b7c6d5e4f" },
    { index: 1, name: "NVIDIA GeForce RTX 4090", memoryMb: 24564, uuid: "GPU-7f6e5d4c-3b2a-1908-f7e6-d5c4b3a29180" },
  ]);
  assert.deepEqual(parseNvidiaSmi(UNITS_NO_HEADER), parseNvidiaSmi(TWO_4090).slice(0, 1));
});

test("a header in another column order is followed", () => {
  const reordered = "uuid, memory.total [MiB], name, index\nGPU-x, 24564 MiB, NVIDIA GeForce RTX 4090, 3\n";
  assert.deepEqual(parseNvidiaSmi(reordered), [{ index: 3, name: "NVIDIA GeForce RTX 4090", memoryMb: 24564, uuid: "GPU-x" }]);
});

test("memory the driver does not report ([N/A], [Not Supported]) counts as none", () => {
  assert.equal(parseNvidiaSmi(GB10)[0]!.memoryMb, 0);
  assert.deepEqual(
    parseNvidiaSmi(V100).map((g) => [g.name, g.memoryMb]),
    [
      ["Tesla V100-SXM2-16GB", 16160],
      ["Tesla V100-SXM2-16GB", 0],
    ],
  );
});

test("no GPUs: empty output, or the driver's 'No devices were found'", () => {
  assert.deepEqual(parseNvidiaSmi(""), []);
  assert.deepEqual(parseNvidiaSmi(NO_DEVICES), []);
});

test("output that is not the query's is refused, naming nvidia-smi", () => {
  for (const bad of [
    "0, NVIDIA A100, 81920\n",
    "x, NVIDIA A100, 81920, GPU-1\n",
    "0, NVIDIA A100, 80 GiB, GPU-1\n",
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n",
  ]) {
    assert.throws(
      () => parseNvidiaSmi(bad),
      (e) => isLilyError(e, "INVALID_INPUT") && e.field === "nvidia-smi",
      bad,
    );
  }
});

/** An nvidia-smi that prints `stdout` and exits with `code`. */
function fakeNvidiaSmi(dir: string, stdout: string, code: number): string {
  const path = join(dir, `nvidia-smi-${code}`);
  writeFileSync(path, `#!/bin/sh\ncat <<'EOF'\n${stdout}EOF\nexit ${code}\n`);
  chmodSync(path, 0o755);
  return path;
}

test("detectGpus: none without nvidia-smi or without a device, the GPUs it prints, its failure in its words", async () => {
  const dir = tempDir("lily-nvidia-smi-");
  try {
    assert.deepEqual(await detectGpus({ command: join(dir, "absent") }), []);
    assert.deepEqual(await detectGpus({ command: fakeNvidiaSmi(dir, NO_DEVICES, 6) }), []);
    assert.deepEqual(
      (await detectGpus({ command: fakeNvidiaSmi(dir, TWO_4090, 0) })).map((g) => g.index),
      [0, 1],
    );
    const broken = fakeNvidiaSmi(dir, "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n", 9);
    await assert.rejects(
      detectGpus({ command: broken }),
      (e) => isLilyError(e, "EXECUTOR_UNAVAILABLE") && e.field === "gpu" && /couldn't communicate/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
