// The Docker executor on a real engine (test/support/docker.ts finds or starts one, and imports a
// busybox image without a registry): a job's inputs, outputs, environment and exit; each limit
// broken by a job that breaks it; what a hostile image could try; and after every run, its
// container gone.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { lstatSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isLilyError } from "@lily/protocol";
import { createDockerExecutor, type DockerExecutorOptions } from "../src/docker/dockerExecutor.ts";
import { TASK_LABEL } from "../src/docker/containerConfig.ts";
import { EngineError, type DockerEngine } from "../src/docker/engine.ts";
import { detectGpus } from "../src/docker/nvidiaSmi.ts";
import { KILLED_EXIT_CODE, type ContainerTaskSpec, type ExitResult, type TaskHandle } from "../src/executor.ts";
import { jobDirs, readTree, type JobDirs } from "./fixtures/runTask.ts";
import { TEST_IMAGE_REPO, testDocker, testImage } from "../../../test/support/docker.ts";

const docker = await testDocker();
const skip = "skip" in docker ? docker.skip : false;
const engine = "skip" in docker ? (undefined as unknown as DockerEngine) : docker.engine;
let image: string;

before(async () => {
  if (!skip) image = await testImage(engine);
});

const MiB = 1024 * 1024;
const leftovers: JobDirs[] = [];
after(() => {
  for (const d of leftovers) d.remove();
});

interface Finished {
  exit: ExitResult;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  dirs: JobDirs;
  handle: TaskHandle;
}

/** A spec for `script` run by busybox sh in fresh job directories; `over` replaces any field. */
function spec(dirs: JobDirs, script: string, over: Partial<ContainerTaskSpec> = {}): ContainerTaskSpec {
  return {
    kind: "docker",
    image,
    command: ["sh", "-c", script],
    inputsDir: dirs.inputsDir,
    outputsDir: dirs.outputsDir,
    env: {},
    args: [],
    memoryMb: 64,
    timeoutMs: 60_000,
    cpu: 1,
    gpus: 0,
    network: false,
    outputLimitBytes: 16 * MiB,
    ...over,
  };
}

/** Run `script` to its end on an executor with `opts`, and check that its container is gone. */
async function run(
  script: string,
  over: Partial<ContainerTaskSpec> & { files?: Record<string, string> } = {},
  opts: Partial<DockerExecutorOptions> = {},
): Promise<Finished> {
  const { files, ...rest } = over;
  const dirs = jobDirs(files);
  leftovers.push(dirs);
  const executor = createDockerExecutor({ engine, ...opts });
  const handle = await executor.start(spec(dirs, script, rest));
  const exit = await executor.wait(handle);
  assert.deepEqual(await containersOf(handle), [], "the task's container is removed");
  const outputs = readTree(dirs.outputsDir);
  return { exit, stdout: outputs.stdout ?? "", stderr: outputs.stderr ?? "", outputs, dirs, handle };
}

/** The containers, running or not, labelled with the task's id. */
async function containersOf(handle: TaskHandle): Promise<unknown[]> {
  return engine.json<unknown[]>({ path: "/containers/json", query: { all: 1, filters: JSON.stringify({ label: [`${TASK_LABEL}=${handle.id}`] }) } });
}

async function containerExists(id: string): Promise<boolean> {
  try {
    await engine.json({ path: `/containers/${id}/json` });
    return true;
  } catch (e) {
    if (e instanceof EngineError && e.status === 404) return false;
    throw e;
  }
}

test("a job reads /inputs, writes /outputs, sees the job's environment, and its stdout, stderr and exit code are kept", { skip }, async () => {
  const r = await run(
    'cat /inputs/inputs.json > /outputs/copy.json; echo "$INPUT_NAME" > /outputs/name; env | cut -d= -f1 | sort | tr "\\n" " " > /outputs/env; echo to-out; echo to-err >&2; exit 3',
    { files: { "inputs.json": '{"name":"lily"}' }, env: { INPUT_NAME: "lily" } },
  );
  assert.deepEqual(r.exit.exitCode, 3);
  assert.equal(r.exit.limit, undefined);
  assert.deepEqual(
    { copy: r.outputs["copy.json"], name: r.outputs.name, stdout: r.stdout, stderr: r.stderr },
    { copy: '{"name":"lily"}', name: "lily\n", stdout: "to-out\n", stderr: "to-err\n" },
  );
  // The job's variable, and what Docker and the shell add; nothing from this process.
  assert.equal(r.outputs.env, "HOME HOSTNAME INPUT_NAME PATH PWD SHLVL ");
});

test("a job runs as an unprivileged user, whatever the image says (this one says root)", { skip }, async () => {
  const r = await run("id -u; id -g; grep CapEff /proc/self/status; grep NoNewPrivs /proc/self/status");
  const [uid, gid, caps, noNewPrivs] = r.stdout.trim().split("\n");
  assert.notEqual(uid, "0");
  assert.equal(`${uid}:${gid}`, process.getuid!() === 0 ? "65534:65534" : `${process.getuid!()}:${process.getgid!()}`);
  // No capabilities, and no set-uid binary can give any back.
  assert.deepEqual([caps, noNewPrivs], ["CapEff:\t0000000000000000", "NoNewPrivs:\t1"]);
});

test("the root file system and /inputs are read-only; /outputs is writable, and /tmp and /dev/shm (memory)", { skip }, async () => {
  const r = await run(
    "for d in / /etc /bin /inputs /tmp /dev/shm /outputs; do if touch $d/probe 2>/dev/null; then echo $d writable; else echo $d read-only; fi; done",
    {
      files: { "inputs.json": "{}" },
    },
  );
  assert.equal(r.stdout, "/ read-only\n/etc read-only\n/bin read-only\n/inputs read-only\n/tmp writable\n/dev/shm writable\n/outputs writable\n");
});

test("without the network a job has only loopback, and a connection attempt fails", { skip }, async () => {
  const r = await run("ls /sys/class/net; if wget -q -T 3 -O /dev/null http://192.0.2.1/; then echo connected; else echo no-connection; fi");
  assert.equal(r.stdout, "lo\nno-connection\n");
});

test("a job that asks for the network joins the provider's network", { skip }, async () => {
  // An internal bridge (no route out), made here: a private test daemon runs with --bridge=none.
  const network = "lily-test-internal";
  try {
    await engine.json({ method: "POST", path: "/networks/create", json: { Name: network, Driver: "bridge", Internal: true, CheckDuplicate: true } });
  } catch (e) {
    if (!(e instanceof EngineError && e.status === 409)) throw e; // made by an earlier run
  }
  const r = await run("ls /sys/class/net", { network: true }, { network });
  assert.equal(r.stdout, "eth0\nlo\n");
});

test("a job that asks for the network is refused by a provider that runs none, and by an engine without the network", { skip }, async () => {
  const dirs = jobDirs();
  leftovers.push(dirs);
  await assert.rejects(
    createDockerExecutor({ engine, network: false }).start(spec(dirs, "true", { network: true })),
    (e) => isLilyError(e, "EXECUTOR_UNAVAILABLE") && e.field === "module.executor.network",
  );
  await assert.rejects(
    createDockerExecutor({ engine, network: "lily-no-such-network" }).start(spec(dirs, "true", { network: true })),
    (e) => isLilyError(e, "EXECUTOR_UNAVAILABLE") && e.field === "module.executor.network" && /lily-no-such-network/.test(e.message),
  );
});

test("a job that allocates past its memory limit is killed and reported as a memory limit, /tmp counted as memory", { skip }, async () => {
  const cases = [
    // tail keeps the last line of a stream without newlines: all of it.
    { what: "a growing process", script: "tail /dev/zero" },
    // /tmp is a tmpfs whose pages are charged to the container's memory: filling it is allocating.
    { what: "a full /tmp", script: "dd if=/dev/zero of=/tmp/fill bs=1048576 count=60" },
  ];
  for (const c of cases) {
    const r = await run(c.script, { memoryMb: 32, outputLimitBytes: 100 * MiB });
    assert.deepEqual([r.exit.exitCode, r.exit.limit], [KILLED_EXIT_CODE, "memory"], c.what);
  }
});

test("a job that outlives its wall-clock limit is killed and reported as a timeout", { skip }, async () => {
  const r = await run("echo started; sleep 60", { timeoutMs: 1500 });
  assert.deepEqual([r.exit.exitCode, r.exit.limit, r.stdout], [KILLED_EXIT_CODE, "timeout", "started\n"]);
});

test("a job that writes one file past the output limit is stopped; /outputs is emptied but for stdout and stderr", { skip }, async () => {
  const r = await run("echo writing; dd if=/dev/zero of=/outputs/big bs=1048576 count=64", { outputLimitBytes: 4 * MiB });
  assert.equal(r.exit.limit, "output");
  assert.deepEqual(Object.keys(r.outputs).sort(), ["stderr", "stdout"]);
  assert.equal(r.stdout, "writing\n");
  assert.match(r.stderr, /\[lily\] \/outputs went over its limit/);
});

test("output limits, table-driven: many files, a flood of entries, an endless chain of directories", { skip }, async () => {
  const cases: { what: string; script: string; opts?: Partial<DockerExecutorOptions> }[] = [
    // Each file below the limit; only measuring /outputs while it runs stops this.
    { what: "files of 256 KiB forever", script: "i=0; while :; do dd if=/dev/zero of=/outputs/f$i bs=262144 count=1 2>/dev/null; i=$((i+1)); done" },
    { what: "empty files forever", script: "i=0; while :; do : > /outputs/e$i; i=$((i+1)); done", opts: { maxOutputEntries: 200 } },
    { what: "directories within directories", script: "cd /outputs; while mkdir d && cd d; do :; done; sleep 60" },
  ];
  for (const c of cases) {
    const r = await run(c.script, { outputLimitBytes: 4 * MiB, timeoutMs: 30_000 }, c.opts);
    assert.equal(r.exit.limit, "output", c.what);
    assert.deepEqual(Object.keys(r.outputs).sort(), ["stderr", "stdout"], c.what);
  }
});

test("no file may outgrow the output limit: the kernel refuses a sparse terabyte, and a writer it kills is reported at the limit", { skip }, async () => {
  // A terabyte that takes no disk would still be a terabyte to upload. As the container's first
  // process the writer gets EFBIG (PID 1 ignores the signal); as a child it is killed by SIGXFSZ.
  const first = await run("truncate -s 1099511627776 /outputs/sparse", { outputLimitBytes: 4 * MiB });
  assert.deepEqual([first.exit.exitCode, first.outputs.sparse, first.stderr], [1, "", "truncate: /outputs/sparse: truncate: File too large\n"]);
  const child = await run("truncate -s 1099511627776 /outputs/sparse; exit $?", { outputLimitBytes: 4 * MiB });
  assert.deepEqual([child.exit.exitCode, child.exit.limit, child.outputs.sparse], [153, "output", ""]);
});

test("a job within its output limit keeps what it wrote", { skip }, async () => {
  const r = await run("dd if=/dev/zero of=/outputs/data bs=1024 count=1024 2>/dev/null; mkdir -p /outputs/a/b; echo deep > /outputs/a/b/c", {
    outputLimitBytes: 2 * MiB,
  });
  assert.deepEqual([r.exit.exitCode, r.exit.limit], [0, undefined]);
  assert.equal(r.outputs.data?.length, MiB);
  assert.equal(r.outputs["a/b/c"], "deep\n");
});

test("a fork bomb meets the pids limit, not the host's process table", { skip }, async () => {
  const r = await run("i=0; while [ $i -lt 200 ]; do sleep 60 & i=$((i+1)); done; echo all-started", {}, { pidsLimit: 32 });
  assert.notEqual(r.exit.exitCode, 0);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /can't fork/);
});

test("what a hostile job leaves in /outputs cannot reach the host: links, fifos, set-uid bits and closed directories", { skip }, async () => {
  const dirs = jobDirs();
  leftovers.push(dirs);
  // A file of the provider's, outside /outputs, that the job names by its host path.
  const secret = join(dirs.inputsDir, "..", "secret");
  writeFileSync(secret, "the provider's key");
  const script = [
    `ln -s ${secret} /outputs/leak`,
    `ln -s ${secret} /outputs/stdout`, // where the executor will save stdout
    "ln -s / /outputs/root",
    "mkfifo /outputs/pipe",
    "echo data > /outputs/real && chmod 6777 /outputs/real",
    "mkdir /outputs/closed && echo hidden > /outputs/closed/f && chmod 000 /outputs/closed",
    "echo printed",
  ].join("; ");
  const executor = createDockerExecutor({ engine });
  const handle = await executor.start(spec(dirs, script));
  const exit = await executor.wait(handle);
  assert.equal(exit.exitCode, 0);
  assert.equal(readFileSync(secret, "utf8"), "the provider's key");
  const out = dirs.outputsDir;
  assert.deepEqual(readTree(out), { stdout: "printed\n", stderr: readTree(out).stderr, real: "data\n", "closed/f": "hidden\n" });
  assert.equal(lstatSync(join(out, "stdout")).isFile(), true);
  const real = lstatSync(join(out, "real"));
  assert.equal(real.mode & 0o7022, 0, "no set-uid, set-gid, sticky or group/other write bit");
  assert.equal(real.uid, process.getuid!());
  assert.match(readTree(out).stderr!, /not kept from \/outputs.*leak \(symbolic link\).*pipe \(fifo\)/);
});

test("stdout and stderr are each cut at the cap, and the cut is noted", { skip }, async () => {
  const r = await run("yes | head -c 100000; yes e | head -c 3000 >&2", {}, { logLimitBytes: 4096 });
  assert.equal(r.stdout.length, 4096);
  assert.match(r.stderr, /^(e\n){1500}\[lily\] stdout cut at 4096 bytes \(the module printed 100000\)\n$/);
});

test("a stopped job is killed and its container removed", { skip }, async () => {
  const dirs = jobDirs();
  leftovers.push(dirs);
  const executor = createDockerExecutor({ engine });
  const handle = await executor.start(spec(dirs, "sleep 60"));
  assert.equal(executor.inspect(handle).state, "running");
  const exit = await executor.stop(handle);
  assert.deepEqual([exit.exitCode, exit.error], [KILLED_EXIT_CODE, "stopped"]);
  assert.deepEqual(executor.inspect(handle).exit, exit);
  assert.deepEqual(await containersOf(handle), []);
});

test("a command that does not exist is the module's failure: exit 127, like docker run", { skip }, async () => {
  const dirs = jobDirs();
  leftovers.push(dirs);
  const executor = createDockerExecutor({ engine });
  const handle = await executor.start({ ...spec(dirs, ""), command: ["/no/such/program"] });
  const exit = await executor.wait(handle);
  assert.equal(exit.exitCode, 127);
  assert.match(exit.error ?? "", /no\/such\/program/);
  assert.deepEqual(await containersOf(handle), []);
  // What is kept is the same on any engine version: the engine's words are in `error` only.
  assert.deepEqual(readTree(dirs.outputsDir), { stdout: "", stderr: "[lily] the command could not be run (exit 127)\n" });
});

test("an image named by a tag or a short ID is refused, naming the field", { skip }, async () => {
  const dirs = jobDirs();
  leftovers.push(dirs);
  const executor = createDockerExecutor({ engine });
  for (const ref of [`${TEST_IMAGE_REPO}:latest`, "busybox", image.slice(0, 19), `docker.io/library/busybox@${image}`]) {
    await assert.rejects(executor.start({ ...spec(dirs, "true"), image: ref }), (e) => isLilyError(e, "INVALID_INPUT") && e.field === "image", ref);
  }
});

test("an image the engine does not hold is a clear error", { skip }, async () => {
  const dirs = jobDirs();
  leftovers.push(dirs);
  const missing = `sha256:${"0".repeat(64)}`;
  await assert.rejects(
    createDockerExecutor({ engine }).start({ ...spec(dirs, "true"), image: missing }),
    (e) => isLilyError(e, "NOT_FOUND") && e.field === "image" && e.message.includes(missing),
  );
});

test("a GPU job: refused by a provider without GPUs; handed to the engine's NVIDIA runtime otherwise", { skip }, async () => {
  const dirs = jobDirs();
  leftovers.push(dirs);
  await assert.rejects(
    createDockerExecutor({ engine }).start(spec(dirs, "true", { gpus: 1 })),
    (e) => isLilyError(e, "EXECUTOR_UNAVAILABLE") && e.field === "resources.gpu" && /needs 1 GPU and this provider has none/.test(e.message),
  );
  const gpus = await detectGpus();
  const executor = createDockerExecutor({ engine, gpus: Math.max(1, gpus.length) });
  if (gpus.length > 0) {
    const r = await run("ls /dev/nvidia0", { gpus: 1 }, { gpus: gpus.length });
    assert.equal(r.stdout, "/dev/nvidia0\n");
    return;
  }
  // This machine has no NVIDIA runtime: the device request reaches the engine, which refuses it,
  // and the container it had made is removed.
  let container = "";
  await assert.rejects(executor.start(spec(dirs, "true", { gpus: 1 })), (e) => {
    container = String(isLilyError(e) && e.details.container);
    return isLilyError(e, "EXECUTOR_UNAVAILABLE") && e.field === "resources.gpu" && /nvidia/.test(e.message);
  });
  assert.equal(await containerExists(container), false);
});
