// The throughput bench's CPU split by thread (bench/threadCpu.ts), on this process: CPU burnt in a
// worker thread that has ended since must land in "other threads", not in the main thread's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { cpuBetween, threadCpu } from "../../bench/threadCpu.ts";

// Burns `ms` of this thread's own CPU, not of wall time: with other tests running beside it, a
// thread busy for 200 ms of wall time got 140 ms of CPU, and the split was right but the test failed.
const burn = (ms: number) =>
  `const used = () => { const u = process.threadCpuUsage(); return (u.user + u.system) / 1000; }; const end = used() + ${ms}; while (used() < end);`;

test("CPU of a worker thread that ended counts as other threads, the main thread's as main", {
  skip: !existsSync("/proc/self/task") && "needs /proc",
}, async () => {
  const before = threadCpu(process.pid);
  const worker = new Worker(burn(400), { eval: true });
  await new Promise((resolve) => worker.once("exit", resolve));
  new Function(burn(200))();
  const split = cpuBetween(process.pid, before, threadCpu(process.pid));
  assert.ok(split.other >= 0.3, `other threads: ${split.other} s`);
  assert.ok(split.main >= 0.15 && split.main < 0.35, `main: ${split.main} s`);
  assert.ok(Math.abs(split.seconds - (split.main + split.v8Helpers + split.other)) < 0.02, "the parts add up to the process's CPU");
});

test("a process that is gone has no split", () => {
  assert.equal(threadCpu(2 ** 22 + 1), undefined);
  assert.ok(Number.isNaN(cpuBetween(2 ** 22 + 1, undefined, undefined).seconds));
});
