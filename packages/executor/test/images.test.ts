// Images travel by content, on the real Docker engine and a real store on loopback: an image saved
// into the store and removed from the engine comes back through `ensure` with its digest checked;
// an archive holding another image is refused and leaves nothing loaded; concurrent ensures load
// once; a registry reference is attempted and, with no registry reachable here, fails clearly.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createWriteStream, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { cidForBytes, isLilyError, type DockerModuleExecutor } from "@lily/protocol";
import { createLogger } from "@lily/node-kit";
import { startStore, defaultStoreOptions, StoreClient, type FileRoot } from "@lily/store";
import { testDocker } from "../../../test/support/docker.ts";
import { type DockerEngine, EngineError } from "../src/docker/engine.ts";
import { createImageLoader, saveImage } from "../src/docker/images.ts";
import type { JobSource } from "../src/loadJob.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const docker = await testDocker();
const skip = "skip" in docker ? docker.skip : false;
const work = tempDir("lily-images-");
let engine: DockerEngine;
let store: StoreClient;
let closeStore: () => Promise<void>;
/** Two small images that differ in one file, so they have different IDs. */
let imageA: string;
let imageB: string;

before(async () => {
  if ("skip" in docker) return;
  engine = docker.engine;
  const server = await startStore({ ...defaultStoreOptions, dataDir: join(work, "store") }, { logger: createLogger({ module: "store", level: "error" }) });
  store = new StoreClient(server.url);
  closeStore = () => server.close();
  imageA = await importImage("a");
  imageB = await importImage("b");
});

after(async () => {
  for (const id of [imageA, imageB]) if (id) await removeIfPresent(id);
  await closeStore?.();
  rmSync(work, { recursive: true, force: true });
});

/** A busybox root filesystem with a marker file, imported untagged; returns its image ID. */
async function importImage(marker: string): Promise<string> {
  const root = join(work, `root-${marker}`);
  mkdirSync(join(root, "bin"), { recursive: true });
  copyFileSync("/bin/busybox", join(root, "bin", "busybox"));
  symlinkSync("busybox", join(root, "bin", "sh"));
  writeFileSync(join(root, "marker"), marker);
  const tar = join(work, `root-${marker}.tar`);
  execFileSync("tar", ["-C", root, "-cf", tar, "."]);
  const { status } = await engine.json<{ status: string }>({
    method: "POST",
    path: "/images/create",
    query: { fromSrc: "-" },
    body: readFileSync(tar),
    contentType: "application/x-tar",
  });
  assert.match(status, /^sha256:[0-9a-f]{64}$/);
  return status;
}

async function present(id: string): Promise<boolean> {
  try {
    await engine.json({ path: `/images/${id}/json` });
    return true;
  } catch (e) {
    if (e instanceof EngineError && e.status === 404) return false;
    throw e;
  }
}

async function removeIfPresent(id: string): Promise<void> {
  if (await present(id)) await engine.json({ method: "DELETE", path: `/images/${id}`, query: { force: true } });
}

function executorOf(image: string, from: { archive?: string; reference?: string }): DockerModuleExecutor {
  return { kind: "docker", image, command: ["/bin/sh", "-c", "true"], network: false, ...from };
}

/** The store as a job source, counting the archives it hands out. */
function countingSource(): JobSource & { files: number } {
  const source = {
    files: 0,
    getBytes: (cid: string) => store.getBytes(cid),
    getRecord: <T>(cid: string) => store.getRecord<T>(cid),
    getFile: (cid: string, dest: string) => {
      source.files++;
      return store.getFile(cid, dest);
    },
  };
  return source;
}

let archiveA: string;
let archiveB: string;

test("an archive larger than the party takes is refused before a byte of it is fetched, and nothing is loaded", { skip }, async () => {
  const archive = await saveImage(engine, imageA, store);
  await removeIfPresent(imageA);
  const { size } = await store.getRecord<FileRoot>(archive);
  const source = countingSource();
  const loader = createImageLoader({ engine, cacheDir: join(work, "cache"), maxArchiveBytes: size - 1 });
  await assert.rejects(loader.ensure(executorOf(imageA, { archive }), source), (e: unknown) => {
    assert.ok(isLilyError(e, "EXECUTOR_UNAVAILABLE"));
    assert.equal(e.field, "module.executor.archive");
    return true;
  });
  assert.equal(source.files, 0, "nothing was downloaded");
  assert.equal(await present(imageA), false);
  // Within the limit, the same archive loads (and the next tests have their image back).
  await createImageLoader({ engine, cacheDir: join(work, "cache"), maxArchiveBytes: size }).ensure(executorOf(imageA, { archive }), source);
  assert.equal(await present(imageA), true);
});

test("an image saved into the store and removed from the engine is loaded back by ensure, with its ID checked", { skip }, async (t) => {
  let started = performance.now();
  archiveA = await saveImage(engine, imageA, store);
  const saveMs = performance.now() - started;
  const root = await store.getRecord<FileRoot>(archiveA);
  await removeIfPresent(imageA);
  assert.equal(await present(imageA), false);

  const loader = createImageLoader({ engine, cacheDir: join(work, "cache") });
  started = performance.now();
  await loader.ensure(executorOf(imageA, { archive: archiveA }), countingSource());
  const loadMs = performance.now() - started;
  assert.equal(await present(imageA), true);
  t.diagnostic(`archive ${root.size} bytes in ${root.chunks.length} chunks; save + put ${saveMs.toFixed(0)} ms, get + load ${loadMs.toFixed(0)} ms`);
});

test('an archive saved under a tag (the engine says "Loaded image: name:tag") is loaded and checked the same way', { skip }, async () => {
  await engine.json({ method: "POST", path: `/images/${imageA}/tag`, query: { repo: "lily-test-images", tag: "tagged" } });
  const tar = join(work, "tagged.tar");
  await pipeline(await engine.stream({ path: "/images/lily-test-images:tagged/get" }), createWriteStream(tar));
  const archive = await store.putFile(tar);
  await removeIfPresent(imageA);
  await createImageLoader({ engine }).ensure(executorOf(imageA, { archive }), countingSource());
  assert.equal(await present(imageA), true);
});

test("an image the engine already has is not fetched again", { skip }, async () => {
  const source = countingSource();
  await createImageLoader({ engine }).ensure(executorOf(imageA, { archive: archiveA }), source);
  assert.equal(source.files, 0);
});

test("an archive holding another image is IMAGE_MISMATCH naming module.executor.image, and what it loaded is removed", { skip }, async () => {
  archiveB = await saveImage(engine, imageB, store);
  await removeIfPresent(imageB);
  await removeIfPresent(imageA);
  const loader = createImageLoader({ engine });
  await assert.rejects(
    loader.ensure(executorOf(imageA, { archive: archiveB }), countingSource()),
    (e) => isLilyError(e, "IMAGE_MISMATCH") && e.field === "module.executor.image" && (e.details.loaded as string[])[0] === imageB,
  );
  assert.equal(await present(imageB), false);
  assert.equal(await present(imageA), false);
});

test("an image that was on the engine before a mismatched archive loaded it again is left in place", { skip }, async () => {
  await createImageLoader({ engine }).ensure(executorOf(imageB, { archive: archiveB }), countingSource());
  await assert.rejects(createImageLoader({ engine }).ensure(executorOf(imageA, { archive: archiveB }), countingSource()), (e) =>
    isLilyError(e, "IMAGE_MISMATCH"),
  );
  assert.equal(await present(imageB), true);
});

test("concurrent ensures for one image fetch and load it once", { skip }, async () => {
  await removeIfPresent(imageA);
  const loader = createImageLoader({ engine });
  const source = countingSource();
  await Promise.all(Array.from({ length: 5 }, () => loader.ensure(executorOf(imageA, { archive: archiveA }), source)));
  assert.equal(source.files, 1);
  assert.equal(await present(imageA), true);
});

test("an archive that is not an image is IMAGE_MISMATCH naming module.executor.archive", { skip }, async () => {
  const notAnImage = join(work, "not-an-image.tar");
  execFileSync("tar", ["-C", join(work, "root-a"), "-cf", notAnImage, "marker"]);
  const archive = await store.putFile(notAnImage);
  const missing = "sha256:0000000000000000000000000000000000000000000000000000000000000001";
  await assert.rejects(
    createImageLoader({ engine }).ensure(executorOf(missing, { archive }), countingSource()),
    (e) => isLilyError(e, "IMAGE_MISMATCH") && e.field === "module.executor.archive",
  );
});

test("an archive missing from the store is NOT_FOUND, and no download is left in the cache", { skip }, async () => {
  await removeIfPresent(imageA);
  const cacheDir = join(work, "cache-missing");
  const root = await store.getRecord<FileRoot>(archiveA);
  const gone = await store.putRecord({
    ...root,
    chunks: root.chunks.map((c, i) => (i === 0 ? cidForBytes(new TextEncoder().encode("a chunk no store holds")) : c)),
  });
  await assert.rejects(createImageLoader({ engine, cacheDir }).ensure(executorOf(imageA, { archive: gone }), countingSource()), (e) =>
    isLilyError(e, "NOT_FOUND"),
  );
  assert.deepEqual(readdirSync(cacheDir), []);
});

test("a registry reference is pulled (not tested end to end: no registry is reachable here), and its failure is UNREACHABLE naming module.executor.reference", {
  skip,
}, async () => {
  const missing = "sha256:0000000000000000000000000000000000000000000000000000000000000002";
  const reference = `registry.invalid/lily/test@sha256:${"0".repeat(64)}`;
  await assert.rejects(
    createImageLoader({ engine }).ensure(executorOf(missing, { reference }), countingSource()),
    (e) => isLilyError(e, "UNREACHABLE") && e.field === "module.executor.reference" && e.message.includes("registry.invalid"),
  );
});

test("a source that cannot fetch files cannot load an archive, and says so", { skip }, async () => {
  await removeIfPresent(imageA);
  const source: JobSource = { getBytes: (cid) => store.getBytes(cid), getRecord: (cid) => store.getRecord(cid) };
  await assert.rejects(
    createImageLoader({ engine }).ensure(executorOf(imageA, { archive: archiveA }), source),
    (e) => isLilyError(e, "CONFIG") && e.field === "source",
  );
});

test("saving an image the engine does not have is NOT_FOUND naming the image", { skip }, async () => {
  await assert.rejects(saveImage(engine, `sha256:${"0".repeat(63)}3`, store), (e) => isLilyError(e, "NOT_FOUND") && e.field === "image");
});
