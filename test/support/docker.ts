// A real Docker engine for tests, and a tiny image to run on it, with nothing from a registry.
// The engine is DOCKER_HOST when set, else the standard socket, else ONE private daemon shared by
// every test file (a fixed home under the temp folder, left running between files so the images it
// holds stay loaded). The image is busybox-static's one binary with its applets, imported through
// the Engine API and cached by content, so it is built once per daemon.
// Without an engine the tests fail with the reason: CI installs Docker, so a missing engine is a
// broken machine, not a reason to pass. LILY_SKIP_DOCKER=1 skips them explicitly instead.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DockerEngine, EngineError, findOrStartDocker, pingDocker, privateDaemonEndpoint, readAll, type DockerEndpoint } from "@lily/executor";
import { tarArchive, type TarEntry } from "./tar.ts";

/** Where the shared private test daemon keeps its data, socket and log. */
export const TEST_DOCKER_HOME = join(tmpdir(), "lily-test-docker");
/** The statically linked busybox that `apt-get install busybox-static` puts here. */
export const BUSYBOX = "/bin/busybox";
/** The repository the test image is tagged under (its tag is a hash of its contents). */
export const TEST_IMAGE_REPO = "lily-test-busybox";

export type TestDocker = { engine: DockerEngine; endpoint: DockerEndpoint } | { skip: string };

let found: Promise<TestDocker> | undefined;

/** The engine the tests run on (found or started once per process); throws the reason when there is none. */
export function testDocker(): Promise<TestDocker> {
  found ??= findTestDocker();
  return found;
}

async function findTestDocker(): Promise<TestDocker> {
  if (process.env.LILY_SKIP_DOCKER === "1") return { skip: "LILY_SKIP_DOCKER=1: the Docker engine tests are skipped" };
  const source = await withStartLock(TEST_DOCKER_HOME, () => findOrStartDocker({ home: TEST_DOCKER_HOME }));
  if ("unavailable" in source)
    throw new Error(
      `no Docker engine for the tests: ${source.unavailable}. Install Docker (apt-get install -y docker.io) or set DOCKER_HOST; LILY_SKIP_DOCKER=1 skips these tests.`,
    );
  // Never stopped here: the next test file finds the daemon running, with the test image loaded.
  return { engine: new DockerEngine(source.endpoint), endpoint: source.endpoint };
}

/**
 * Test files run one after another, but two test processes (two people, two helpers) may start at
 * once: without a lock both would start a daemon on one data root, and the second would delete
 * the first one's socket. The lock is a directory (mkdir is atomic) holding its owner's pid.
 */
async function withStartLock<T>(home: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(home, { recursive: true });
  const lock = join(home, "start.lock");
  for (const deadline = Date.now() + 120_000; ; ) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, "pid"), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      if (lockIsStale(lock)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      // Someone else is starting it: it may already answer.
      if (await pingDocker(privateDaemonEndpoint(home), 500)) return fn();
      if (Date.now() > deadline) throw new Error(`the Docker start lock ${lock} has been held for two minutes; remove it if no test runs`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function lockIsStale(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lock, "pid"), "utf8"));
  } catch {
    // Taken a moment ago and its pid not yet written, or left by a process killed in that moment.
    return Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? 0) > 10_000;
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

let image: Promise<string> | undefined;

/**
 * The test image's ID (sha256:...): busybox with all its applets in /bin, an /etc/passwd with root
 * and nobody, and an empty /tmp. Imported on first use and found by its content tag afterwards.
 */
export function testImage(engine: DockerEngine): Promise<string> {
  image ??= buildTestImage(engine);
  return image;
}

async function buildTestImage(engine: DockerEngine): Promise<string> {
  const tar = busyboxRootfs();
  const tag = createHash("sha256").update(tar).digest("hex").slice(0, 16);
  const ref = `${TEST_IMAGE_REPO}:${tag}`;
  const existing = await imageId(engine, ref);
  if (existing) return existing;
  const res = await engine.stream({
    method: "POST",
    path: "/images/create",
    query: { fromSrc: "-", repo: TEST_IMAGE_REPO, tag },
    body: tar,
    contentType: "application/x-tar",
  });
  // The answer is a stream of JSON progress lines; a failure comes as one with `error`, status 200.
  for (const line of (await readAll(res)).toString("utf8").split("\n")) {
    if (!line.trim()) continue;
    const m = JSON.parse(line) as { error?: string };
    if (m.error) throw new Error(`importing the test image failed: ${m.error}`);
  }
  const id = await imageId(engine, ref);
  if (!id) throw new Error(`the test image ${ref} was imported but the engine does not list it`);
  return id;
}

async function imageId(engine: DockerEngine, ref: string): Promise<string | undefined> {
  try {
    return (await engine.json<{ Id: string }>({ path: `/images/${ref}/json` })).Id;
  } catch (e) {
    if (e instanceof EngineError && e.status === 404) return undefined;
    throw e;
  }
}

/** The image's root file system as a tar: the same bytes for the same busybox. */
function busyboxRootfs(): Buffer {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: the Docker tests need busybox-static (apt-get install -y busybox-static)`);
  const binary = readFileSync(BUSYBOX);
  if (isDynamicElf(binary)) throw new Error(`${BUSYBOX} is dynamically linked and would not run in an empty image: apt-get install -y busybox-static`);
  const applets = execFileSync(BUSYBOX, ["--list"], { encoding: "utf8" })
    .split("\n")
    .map((a) => a.trim())
    .filter((a) => a && a !== "busybox" && !a.includes("/"))
    .sort();
  const entries: TarEntry[] = [
    { type: "dir", name: "bin" },
    { type: "file", name: "bin/busybox", data: binary, mode: 0o755 },
    ...applets.map((a): TarEntry => ({ type: "symlink", name: `bin/${a}`, target: "busybox" })),
    { type: "dir", name: "etc" },
    { type: "file", name: "etc/passwd", data: Buffer.from("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n") },
    { type: "file", name: "etc/group", data: Buffer.from("root:x:0:\nnogroup:x:65534:\n") },
    { type: "dir", name: "tmp", mode: 0o1777 },
  ];
  return tarArchive(entries);
}

/** True for an ELF executable with an interpreter (PT_INTERP): it needs a libc the image lacks. */
function isDynamicElf(b: Buffer): boolean {
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false; // not 64-bit ELF: let the run say so
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3) return true;
  return false;
}
