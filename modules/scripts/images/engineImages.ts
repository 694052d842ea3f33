// The build's calls to the Docker engine: import a root filesystem as an image (`docker import`,
// streamed from tar), look an image up by ID, save it as an archive (`docker save`), load an
// archive back, remove an image the build replaced.
import { spawn } from "node:child_process";
import { createWriteStream, renameSync, rmSync } from "node:fs";
import { pipeline } from "node:stream/promises";
import { EngineError, loadImageArchive, readEngineMessages, type DockerEngine, type EngineMessage } from "@lily/executor";
import { LilyError } from "@lily/protocol";
import { collect } from "./command.ts";
import { ENTRY_PATH, IMAGE_USER } from "./rootfs.ts";

/** The repository images are tagged under on the build's engine (for people: jobs name images by ID). */
export const IMAGE_REPO = "lily-module";

/** Dockerfile instructions applied on import: who and what `docker run <image>` runs by hand. */
const CHANGES = [
  `USER ${IMAGE_USER.uid}:${IMAGE_USER.gid}`,
  "WORKDIR /",
  `CMD ["${ENTRY_PATH}"]`,
  "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
];

function engineFailed(field: string, what: string, detail: string): LilyError {
  return new LilyError({ code: "EXECUTOR_UNAVAILABLE", field, message: `${field}: the Docker engine could not ${what}: ${detail}` });
}

/** Tar `root` and import it as `lily-module/<name>:<version>`; returns the image ID. Device nodes stay out: the engine makes /dev. */
export async function importRootfs(engine: DockerEngine, root: string, name: string, version: string): Promise<string> {
  const field = `modules/containers/${name}`;
  const tar = spawn(
    "tar",
    ["--numeric-owner", "--one-file-system", "-C", root, "--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*", "-cf", "-", "."],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const tarDone = collect(tar, `tar -C ${root}`, { field, captureStdout: false });
  let result: EngineMessage[];
  try {
    const res = await engine.stream({
      method: "POST",
      path: "/images/create",
      query: { fromSrc: "-", repo: `${IMAGE_REPO}/${name}`, tag: version, changes: CHANGES.join("\n"), message: `lily module ${name}@${version}` },
      body: tar.stdout!,
      contentType: "application/x-tar",
    });
    result = await readEngineMessages(res);
  } catch (e) {
    tar.kill();
    if (e instanceof EngineError) throw engineFailed(field, "import the image", e.message);
    throw e;
  }
  await tarDone;
  const error = result.find((m) => m.error)?.error;
  if (error) throw engineFailed(field, "import the image", error);
  const id = await imageId(engine, `${IMAGE_REPO}/${name}:${version}`);
  if (!id) throw engineFailed(field, "find the image it imported", `${IMAGE_REPO}/${name}:${version} is missing`);
  return id;
}

/** The ID of `ref` (an ID or name:tag) on the engine, or undefined when it has none. */
export async function imageId(engine: DockerEngine, ref: string): Promise<string | undefined> {
  try {
    return (await engine.json<{ Id: string }>({ path: `/images/${ref}/json` })).Id;
  } catch (e) {
    if (e instanceof EngineError && e.status === 404) return undefined;
    throw e;
  }
}

/** The image's size on the engine, bytes. */
export async function imageSize(engine: DockerEngine, id: string): Promise<number> {
  return (await engine.json<{ Size: number }>({ path: `/images/${id}/json` })).Size;
}

/** `docker save` image `id` (by ID, so the archive names no tag) to `path`, written under a temporary name first. */
export async function saveArchive(engine: DockerEngine, id: string, path: string): Promise<void> {
  const part = `${path}.part`;
  try {
    await pipeline(await engine.stream({ path: `/images/${id}/get` }), createWriteStream(part));
    renameSync(part, path);
  } finally {
    rmSync(part, { force: true });
  }
}

/** Load a saved archive; returns the image IDs the engine says it loaded. */
export async function loadArchive(engine: DockerEngine, path: string): Promise<string[]> {
  const { loaded, error } = await loadImageArchive(engine, path);
  if (error) throw engineFailed(path, "load the archive", error);
  // The build saves images by ID, so the engine names them by ID ("Loaded image ID: sha256:...").
  return loaded.filter((ref) => /^sha256:[0-9a-f]{64}$/.test(ref));
}

/** Tag image `id` as lily-module/<name>:<version>, so the engine keeps a name on it. */
export async function tagImage(engine: DockerEngine, id: string, name: string, version: string): Promise<void> {
  await engine.json({ method: "POST", path: `/images/${id}/tag`, query: { repo: `${IMAGE_REPO}/${name}`, tag: version } });
}

/** Remove an image the build replaced. One already gone is fine; one a container still uses is kept (returns false). */
export async function removeImage(engine: DockerEngine, id: string): Promise<boolean> {
  try {
    await engine.json({ method: "DELETE", path: `/images/${id}` });
    return true;
  } catch (e) {
    if (e instanceof EngineError && e.status === 404) return true;
    if (e instanceof EngineError && e.status === 409) return false;
    throw e;
  }
}
