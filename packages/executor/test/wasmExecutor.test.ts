import { before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { isLilyError } from "@lily/protocol";
import { loadCatalog } from "@lily/modules";
import { createWasmExecutor } from "../src/wasmExecutor.ts";
import { KILLED_EXIT_CODE, TRAPPED_EXIT_CODE } from "../src/executor.ts";
import { compileFixture } from "./fixtures/compileFixture.ts";
import { jobDirs, runTask } from "./fixtures/runTask.ts";
import { body, growModule, limits, name, section, vec, wasmModule } from "./fixtures/wasm.ts";

// A warm spare that nobody takes goes within 100 ms, so the descriptor tests can wait it out.
const executor = createWasmExecutor({ spareIdleMs: 100 });
const primes = loadCatalog().find((m) => m.ref === "primes@1.0.0")!.wasmBytes;
const fixtures: Record<string, Uint8Array> = {};

before(async () => {
  for (const f of ["allocate", "escape", "printenv", "leftovers"]) fixtures[f] = await compileFixture(f);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const openFds = () => readdirSync("/proc/self/fd").length;

/**
 * The number of this process's open descriptors once it has stopped changing for 250 ms: a
 * worker ends a moment after its job (and a warm one after its idle time), and its thread's own
 * descriptors go with it.
 */
async function settledFds(): Promise<number> {
  let last = openFds();
  for (let stable = 0, i = 0; stable < 5 && i < 200; i++) {
    await sleep(50);
    const now = openFds();
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
  return last;
}

/** The open descriptors once they are back to `expected`, or after 10 s of waiting for it. */
async function fdsBackTo(expected: number): Promise<number> {
  for (let i = 0; i < 200 && openFds() !== expected; i++) await sleep(50);
  return openFds();
}

/** A WASI command whose _start runs `code`, with an optional import it expects. */
function command(code: number[], imports: number[][] = []): Uint8Array {
  const funcImports = imports.length;
  return wasmModule(
    section(1, vec([[0x60, 0, 0]])),
    ...(imports.length ? [section(2, vec(imports))] : []),
    section(3, vec([[0]])),
    section(5, vec([limits(1)])),
    section(
      7,
      vec([
        [...name("_start"), 0x00, funcImports],
        [...name("memory"), 0x02, 0],
      ]),
    ),
    section(10, vec([body(...code)])),
  );
}

test("a module that allocates past its memory cap is stopped and reported as a memory limit", async () => {
  const { exit } = await runTask(executor, fixtures.allocate!, { memoryMb: 16 });
  assert.equal(exit.limit, "memory");
  assert.equal(exit.exitCode, TRAPPED_EXIT_CODE);
});

test("a module that stays within its memory cap exits normally", async () => {
  const { exit, stdout } = await runTask(executor, fixtures.allocate!, { memoryMb: 16, args: ["allocate", "8"] });
  assert.deepEqual([exit.exitCode, exit.limit, stdout], [0, undefined, "allocated 8 MiB\n"]);
});

test("a module that needs more memory than its cap just to start is refused before it runs", async () => {
  const dirs = jobDirs();
  await assert.rejects(
    executor.start({ wasm: growModule(limits(100)), inputsDir: dirs.inputsDir, outputsDir: dirs.outputsDir, env: {}, args: [], memoryMb: 1, timeoutMs: 1000 }),
    (e) => isLilyError(e, "SANDBOX_LIMIT") && e.field === "resources.memoryMb",
  );
  dirs.remove();
});

test("a long primes run is killed at the wall-clock limit", async () => {
  const { exit } = await runTask(executor, primes, { env: { INPUT_N: "2000000000" }, timeoutMs: 300 });
  assert.equal(exit.limit, "timeout");
  assert.equal(exit.exitCode, KILLED_EXIT_CODE);
  assert.ok(exit.durationMs >= 300, `ran ${exit.durationMs} ms`);
});

test("a running task can be inspected and stopped", async () => {
  const dirs = jobDirs();
  const handle = await executor.start({ wasm: primes, ...dirs, env: { INPUT_N: "2000000000" }, args: ["primes"], memoryMb: 16, timeoutMs: 60_000 });
  assert.equal(executor.inspect(handle).state, "running");
  const exit = await executor.stop(handle);
  assert.deepEqual([exit.exitCode, exit.limit], [KILLED_EXIT_CODE, undefined]);
  assert.deepEqual(executor.inspect(handle), { id: handle.id, state: "exited", startedAt: handle.startedAt, exit });
  assert.equal(await executor.wait(handle), exit);
  dirs.remove();
});

test("a module cannot read outside /inputs and /outputs, write its inputs, or link anything", async () => {
  const files = { "data.txt": "hello", "sub/data.txt": "nested" };
  const { exit, stdout, inputs, outputs } = await runTask(executor, fixtures.escape!, { files });
  assert.equal(exit.exitCode, 0);
  const attempts = stdout
    .trim()
    .split("\n")
    .map((line) => line.split(": ") as [string, string]);
  const allowed = attempts.filter(([, result]) => result === "ok").map(([attempt]) => attempt);
  assert.deepEqual(allowed, ["read an input", "write an output", "open a subdirectory of inputs"]);
  assert.ok(attempts.length > 15, "every attempt reported");
  assert.deepEqual(inputs, files, "the inputs are untouched");
  assert.deepEqual(Object.keys(outputs).sort(), ["ok.txt", "stderr", "stdout"], "writes land only in outputs");
});

test("a module sees only the arguments and environment it is given", async () => {
  const { stdout } = await runTask(executor, fixtures.printenv!, { args: ["printenv", "--flag"], env: { INPUT_N: "7" } });
  assert.equal(stdout, "args: printenv --flag\nINPUT_N=7\n");
});

test("a trap is reported with the engine's message", async () => {
  const { exit } = await runTask(executor, command([0x00, 0x0b])); // unreachable
  assert.deepEqual([exit.exitCode, exit.limit, exit.error], [TRAPPED_EXIT_CODE, undefined, "RuntimeError: unreachable"]);
});

test("a module that imports what the sandbox does not provide fails to start, saying why", async () => {
  const { exit } = await runTask(executor, command([0x0b], [[...name("env"), ...name("secret"), 0x00, 0]]));
  assert.equal(exit.exitCode, TRAPPED_EXIT_CODE);
  assert.match(exit.error ?? "", /Import #0 "env"/);
});

test("directories that do not exist are refused, naming the field", async () => {
  await assert.rejects(
    executor.start({ wasm: primes, inputsDir: "/nonexistent/inputs", outputsDir: "/tmp", env: {}, args: [], memoryMb: 16, timeoutMs: 1000 }),
    (e) => isLilyError(e, "INVALID_INPUT") && e.field === "inputsDir",
  );
});

test("a task leaves no descriptor of this process open, however it ended", { skip: !existsSync("/proc/self/fd") && "needs /proc" }, async () => {
  // Without a warm spare (a live worker holds its own descriptors): only what tasks leave counts here.
  const plain = createWasmExecutor({ warmSpare: false });
  const before = await settledFds(); // the shared executor's warm workers from earlier tests end
  await runTask(plain, primes, { env: { INPUT_N: "1000" } });
  await runTask(plain, primes, { env: { INPUT_N: "2000000000" }, timeoutMs: 100 });
  await runTask(plain, fixtures.escape!, { files: { "data.txt": "x" } });
  assert.equal(await fdsBackTo(before), before);
});

test("a warm spare worker runs the next job, and one nobody takes is let go with its descriptors", {
  skip: !existsSync("/proc/self/fd") && "needs /proc",
}, async () => {
  const warm = createWasmExecutor({ spareIdleMs: 300 });
  const before = await settledFds();
  const first = await runTask(warm, primes, { env: { INPUT_N: "1000" } });
  const second = await runTask(warm, primes, { env: { INPUT_N: "1000" } }); // on the spare the first one started, or its own worker
  assert.equal(first.exit.exitCode, 0);
  assert.equal(second.exit.exitCode, 0);
  assert.equal(second.stdout, first.stdout);
  assert.equal(await fdsBackTo(before), before, "past spareIdleMs the untaken workers end");
});

test("a reused worker gives each job a fresh module and WASI instance: nothing of one run reaches the next", {
  skip: !existsSync("/proc/self/fd") && "needs /proc",
}, async () => {
  const reusing = createWasmExecutor({ spareIdleMs: 300 });
  const before = await settledFds();
  const runs = [];
  for (let i = 0; i < 4; i++) runs.push(await runTask(reusing, fixtures.leftovers!, { env: i === 0 ? { SECRET: "first job's" } : {} }));
  assert.ok(reusing.stats.jobsOnUsedWorkers >= 2, `jobs on used workers: ${reusing.stats.jobsOnUsedWorkers}`);
  assert.ok(reusing.stats.workersStarted < 4, `workers started: ${reusing.stats.workersStarted}`);
  for (const r of runs) {
    assert.equal(r.exit.exitCode, 0);
    // Its own counter from zero, descriptor 5 not the file the previous run left open, and its own file there.
    assert.equal(r.stdout, "runs: 1\nfd 5: BADF\nleft open: fd 5\n");
    assert.deepEqual(Object.keys(r.outputs).sort(), ["left-open.txt", "stderr", "stdout"]);
  }
  const env = await runTask(reusing, fixtures.printenv!, { args: ["printenv"] });
  assert.equal(env.stdout, "args: printenv\n", "no environment of an earlier job");
  assert.equal(await fdsBackTo(before), before, "the warm workers end, and what the jobs left open was closed");
});

test("a worker stopped at a limit is not reused, and the next job runs normally", async () => {
  const reusing = createWasmExecutor({ warmSpare: true, spareIdleMs: 300 });
  const ok = await runTask(reusing, primes, { env: { INPUT_N: "1000" } });
  const killed = await runTask(reusing, primes, { env: { INPUT_N: "2000000000" }, timeoutMs: 200 });
  const after = await runTask(reusing, primes, { env: { INPUT_N: "1000" } });
  assert.equal(killed.exit.limit, "timeout");
  assert.deepEqual([after.exit.exitCode, after.stdout], [0, ok.stdout]);
  // The killed job's worker was terminated: the third job took the warm spare or a new worker, never it.
  assert.ok(reusing.stats.workersStarted >= 2, `workers started: ${reusing.stats.workersStarted}`);
});

test("jobs two at a time keep reusing their workers instead of starting one per pair", async () => {
  // A provider with two slots runs two jobs at once, round after round. Keeping only two warm
  // workers (the spare plus one finished job's) ended the other finished job's worker every
  // round and started a new spare: one worker start (~60-130 ms of CPU) for every two jobs.
  const pairs = createWasmExecutor({ spareIdleMs: 5_000 });
  const rounds = 8;
  for (let i = 0; i < rounds; i++) {
    const both = await Promise.all([runTask(pairs, primes, { env: { INPUT_N: "1000" } }), runTask(pairs, primes, { env: { INPUT_N: "1000" } })]);
    for (const r of both) assert.equal(r.exit.exitCode, 0);
  }
  // Two for the first pair, a spare beside each; then the same three take turns.
  assert.ok(pairs.stats.workersStarted <= 4, `workers started for ${rounds} pairs: ${pairs.stats.workersStarted}`);
  assert.ok(pairs.stats.jobsOnUsedWorkers >= 2 * rounds - 4, `jobs on used workers: ${pairs.stats.jobsOnUsedWorkers}`);
});

test("a handle this executor did not issue is refused", () => {
  assert.throws(
    () => executor.inspect({ id: "nope", startedAt: 0 }),
    (e) => isLilyError(e, "NOT_FOUND") && e.field === "handle",
  );
});
