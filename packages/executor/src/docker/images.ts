// Container images travel by content. A module's image is saved (`docker save`) into the store as a
// chunked file under its CID; a party that lacks the image fetches that archive (every chunk
// verified), loads it, and checks that the engine now holds exactly the image the manifest names
// (its ID, the sha256 of its config) before anything runs. An archive that yields another image is
// refused and what it loaded is removed again. A registry reference pinned by digest is the other
// way, for public images: NOT tested end to end here, since no registry is reachable from this
// machine; the tests check only that a pull is attempted and its failure reported clearly.
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { LilyError, imageDigest, parse, type DockerModuleExecutor } from "@lily/protocol";
import type { ImageLoader, JobSource } from "../loadJob.ts";
import { EngineError, readEngineMessages, type DockerEngine, type EngineMessage } from "./engine.ts";

/** Where a saved archive goes: a store that takes files by streaming them (`StoreClient.putFile`). */
export interface FileSink {
  putFile(path: string): Promise<string>;
}

/** Save the engine's image `image` (sha256:<64 hex>, its ID) into the store; returns the archive's CID. */
export async function saveImage(engine: DockerEngine, image: string, store: FileSink, opts: { tmpDir?: string } = {}): Promise<string> {
  parse(imageDigest, image, "image");
  // Asked first: for an image it lacks, `GET /images/{id}/get` answers 500 (Docker 20.10), not 404.
  if ((await imageIdOf(engine, image)) !== image)
    throw new LilyError({ code: "NOT_FOUND", field: "image", message: `the Docker engine has no image ${image}` });
  const dir = await mkdtemp(join(opts.tmpDir ?? tmpdir(), "lily-image-save-"));
  try {
    const archive = join(dir, "image.tar");
    await pipeline(await engine.stream({ path: `/images/${image}/get` }), createWriteStream(archive));
    return await store.putFile(archive);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface ImageLoaderOptions {
  engine: DockerEngine;
  /** Where archives are downloaded before they are loaded (removed once loaded); default the system temp folder. */
  cacheDir?: string;
  /** The largest image archive it fetches, in bytes (read from the archive's root record first); default 4 GiB. */
  maxArchiveBytes?: number;
}

export const DEFAULT_MAX_ARCHIVE_BYTES = 4 * 1024 ** 3;

/**
 * The loader `loadJob` uses: makes `executor.image` present on the engine. Concurrent calls for one
 * image share one load.
 */
export function createImageLoader(opts: ImageLoaderOptions): ImageLoader {
  const inFlight = new Map<string, Promise<void>>();
  return {
    ensure(executor: DockerModuleExecutor, source: JobSource): Promise<void> {
      const pending = inFlight.get(executor.image);
      if (pending) return pending;
      const loading = ensureImage(opts, executor, source, inFlight).finally(() => inFlight.delete(executor.image));
      inFlight.set(executor.image, loading);
      return loading;
    },
  };
}

async function ensureImage(opts: ImageLoaderOptions, executor: DockerModuleExecutor, source: JobSource, inFlight: ReadonlyMap<string, unknown>): Promise<void> {
  const { engine } = opts;
  if ((await imageIdOf(engine, executor.image)) === executor.image) return;
  if (executor.archive) return loadArchive(opts, executor, executor.archive, source, inFlight);
  if (executor.reference) return pullReference(engine, executor, executor.reference);
  // The manifest schema requires one of the two; a record built around it still gets a clear refusal.
  throw new LilyError({
    code: "INVALID_INPUT",
    field: "module.executor.archive",
    message: `image ${executor.image} is not on this engine and the module names no archive or reference`,
  });
}

async function loadArchive(
  opts: ImageLoaderOptions,
  executor: DockerModuleExecutor,
  archive: string,
  source: JobSource,
  inFlight: ReadonlyMap<string, unknown>,
): Promise<void> {
  const { engine } = opts;
  if (!source.getFile)
    throw new LilyError({
      code: "CONFIG",
      field: "source",
      message: "this job source cannot fetch files, so a container image cannot be loaded from its archive",
    });
  // REJECT: an image larger than this party takes, before a byte of it is downloaded (anyone can publish a module)
  const limit = opts.maxArchiveBytes ?? DEFAULT_MAX_ARCHIVE_BYTES;
  // (Only the size is read here; getFile checks the whole root record and every chunk.)
  const root = await source.getRecord<{ size?: unknown }>(archive);
  if (typeof root?.size === "number" && root.size > limit)
    throw new LilyError({
      code: "EXECUTOR_UNAVAILABLE",
      field: "module.executor.archive",
      message: `the image archive is ${root.size} bytes, more than the ${limit} this party fetches`,
      details: { archive, size: root.size, limit },
    });
  const parent = opts.cacheDir ?? tmpdir();
  await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(join(parent, "lily-image-"));
  try {
    const tar = join(dir, "image.tar");
    await source.getFile(archive, tar);
    const before = await imageIds(engine);
    const { loaded, error } = await loadImageArchive(engine, tar);
    const ids = new Set<string>();
    for (const ref of loaded) {
      const id = await imageIdOf(engine, ref);
      if (id) ids.add(id);
    }
    // REJECT: the archive must load exactly the image the manifest names (the engine computes the ID from the image's content)
    if (!error && ids.size === 1 && ids.has(executor.image)) return;
    // What this archive added is removed; an image that was there before, or that another ensure is loading, is not ours to remove.
    const added = [...ids].filter((id) => !before.has(id) && !(id !== executor.image && inFlight.has(id)));
    const cleanup = await removeImages(engine, added);
    if (error)
      throw new LilyError({
        code: "IMAGE_MISMATCH",
        field: "module.executor.archive",
        message: `the Docker engine could not load archive ${archive} for image ${executor.image}: ${error}`,
        details: { archive, expected: executor.image, loaded: [...ids], removed: added, ...cleanup },
      });
    throw new LilyError({
      code: "IMAGE_MISMATCH",
      field: "module.executor.image",
      message: `archive ${archive} holds ${ids.size ? [...ids].join(", ") : "no image"}, not the image ${executor.image} the module names`,
      hint: "the module's archive and manifest disagree: rebuild and republish the module",
      details: { archive, expected: executor.image, loaded: [...ids], removed: added, ...cleanup },
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Pull `reference` (repo@sha256:<manifest digest>) from its registry and check the image ID.
 * NOT tested end to end here: no registry is reachable from this machine.
 */
async function pullReference(engine: DockerEngine, executor: DockerModuleExecutor, reference: string): Promise<void> {
  const at = reference.lastIndexOf("@");
  const [repo, digest] = [reference.slice(0, at), reference.slice(at + 1)];
  const presentBefore = (await imageIdOf(engine, reference)) !== undefined;
  let error: string | undefined;
  try {
    // The engine takes a digest in `tag` (as `docker pull repo@sha256:...` sends it).
    const res = await engine.stream({ method: "POST", path: "/images/create", query: { fromImage: repo, tag: digest } });
    error = (await readEngineMessages(res)).find((m) => m.error)?.error;
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    error = e.message;
  }
  if (error)
    throw new LilyError({
      code: "UNREACHABLE",
      field: "module.executor.reference",
      message: `the Docker engine could not pull ${reference}: ${error}`,
      hint: "the registry must be reachable from this engine, or the module must carry its image's archive",
      details: { reference, expected: executor.image },
    });
  const id = await imageIdOf(engine, reference);
  // REJECT: the pulled image must be the image the manifest names
  if (id === executor.image) return;
  const added = id && !presentBefore ? [id] : [];
  const cleanup = await removeImages(engine, added);
  throw new LilyError({
    code: "IMAGE_MISMATCH",
    field: "module.executor.image",
    message: `${reference} is image ${id ?? "(none)"}, not the image ${executor.image} the module names`,
    details: { reference, expected: executor.image, loaded: id ? [id] : [], removed: added, ...cleanup },
  });
}

/** Load a `docker save` archive; returns the references the engine says it loaded (IDs or name:tag) and its error, if any. */
export async function loadImageArchive(engine: DockerEngine, tar: string): Promise<{ loaded: string[]; error?: string }> {
  let messages: EngineMessage[];
  try {
    const res = await engine.stream({
      method: "POST",
      path: "/images/load",
      query: { quiet: 1 },
      body: createReadStream(tar),
      contentType: "application/x-tar",
    });
    messages = await readEngineMessages(res);
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    return { loaded: [], error: e.message };
  }
  const loaded: string[] = [];
  for (const m of messages) {
    // An untagged save loads as "Loaded image ID: sha256:...", a tagged one as "Loaded image: name:tag".
    const line = m.stream?.trim() ?? "";
    const match = /^Loaded image(?: ID)?: (\S+)$/.exec(line);
    if (match) loaded.push(match[1]!);
  }
  return { loaded, error: messages.find((m) => m.error)?.error };
}

/** The ID of the image `ref` (an ID, name:tag or repo@digest) names on the engine, or undefined when it has none. */
async function imageIdOf(engine: DockerEngine, ref: string): Promise<string | undefined> {
  try {
    return (await engine.json<{ Id: string }>({ path: `/images/${encodeURI(ref)}/json` })).Id;
  } catch (e) {
    if (e instanceof EngineError && e.status === 404) return undefined;
    throw e;
  }
}

async function imageIds(engine: DockerEngine): Promise<Set<string>> {
  const list = await engine.json<{ Id: string }[]>({ path: "/images/json", query: { all: true } });
  return new Set(list.map((i) => i.Id));
}

/** Remove images this loader added; a removal that fails is reported (in the refusal's details), never hidden. */
async function removeImages(engine: DockerEngine, ids: string[]): Promise<{ cleanupFailed?: string[] }> {
  const failed: string[] = [];
  for (const id of ids) {
    try {
      await engine.json({ method: "DELETE", path: `/images/${id}`, query: { force: true } });
    } catch (e) {
      failed.push(`${id}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return failed.length ? { cleanupFailed: failed } : {};
}
