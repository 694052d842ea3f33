// What the provider detects of its machine and what it advertises: every CPU, all memory and the
// GPUs nvidia-smi reports (their count, their VRAM summed) unless the operator offers less, never
// more; a GPU driver that does not answer means no GPU, with the reason.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import os from "node:os";
import { detectGpus } from "@lily/executor";
import { detectMachine, machineResources, offeredResources } from "../src/detect.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const workDir = () => tempDir("lily-provider-detect-");

test("the machine's CPUs, memory and the free disk under the work directory are detected", async () => {
  const dir = workDir();
  const m = await detectMachine({ workDir: dir, detectGpus: async () => [] });
  assert.equal(m.cpu, os.availableParallelism());
  assert.equal(m.memoryMb, Math.floor(os.totalmem() / 2 ** 20));
  // df measures the same file system independently; other writers may move it a little meanwhile.
  const df = Number(execFileSync("df", ["-B1", "--output=avail", dir], { encoding: "utf8" }).trim().split("\n").at(-1));
  assert.ok(Math.abs(m.diskFreeBytes - df) <= df * 0.05, `${m.diskFreeBytes} bytes free, df says ${df}`);
});

test("GPUs are offered by count, VRAM as their total", async () => {
  const gpus = [
    { index: 0, name: "NVIDIA A100-SXM4-40GB", memoryMb: 40960, uuid: "GPU-a" },
    { index: 1, name: "NVIDIA A100-SXM4-40GB", memoryMb: 40960, uuid: "GPU-b" },
  ];
  const m = await detectMachine({ workDir: workDir(), detectGpus: async () => gpus });
  assert.deepEqual(machineResources(m), { cpu: m.cpu, memoryMb: m.memoryMb, gpu: 2, vramMb: 81920 });
});

test("where nvidia-smi is not installed (this machine) no GPU is offered", async (t) => {
  let installed = true;
  try {
    execFileSync("nvidia-smi", ["-L"]);
  } catch (e) {
    installed = (e as NodeJS.ErrnoException).code !== "ENOENT";
  }
  if (installed) {
    // On a GPU host the count is nvidia-smi's own.
    const m = await detectMachine({ workDir: workDir() });
    assert.equal(m.gpus.length, (await detectGpus()).length);
    t.diagnostic("nvidia-smi is installed here: checked against it");
    return;
  }
  const m = await detectMachine({ workDir: workDir() });
  assert.deepEqual(m.gpus, []);
  assert.equal(m.gpuError, undefined);
});

test("a GPU driver that fails means no GPU offered, and says why", async () => {
  const m = await detectMachine({ workDir: workDir(), detectGpus: () => detectGpus({ command: "/bin/false" }) });
  assert.deepEqual(m.gpus, []);
  assert.match(m.gpuError ?? "", /\/bin\/false failed/);
});

const detected = { cpu: 8, memoryMb: 16000, gpu: 1, vramMb: 24000 };
const offers: [string, Parameters<typeof offeredResources>[1], ReturnType<typeof offeredResources>][] = [
  ["nothing asked: everything detected", {}, { resources: detected, capped: [] }],
  ["less asked: that much", { cpu: 2, memoryMb: 4096 }, { resources: { ...detected, cpu: 2, memoryMb: 4096 }, capped: [] }],
  ["no GPU asked: none", { gpu: 0, vramMb: 0 }, { resources: { ...detected, gpu: 0, vramMb: 0 }, capped: [] }],
  ["more asked: held to what was detected, and named", { cpu: 64, vramMb: 80000 }, { resources: detected, capped: ["cpu", "vramMb"] }],
];

for (const [name, asked, expected] of offers) test(`offered resources, ${name}`, () => assert.deepEqual(offeredResources(detected, asked), expected));
