// Build the container modules (`npm run build:images`; as root, since debootstrap and chroot need it):
// for every folder under modules/containers/, debootstrap its Debian packages, install its entry
// program, run it once on sample inputs, prune what it does not use, run it again, import the
// root filesystem into the Docker engine, save the image as an archive and write the manifest with
// the image's ID and the archive's CID. Output, in modules/dist/images/:
//   <name>@<version>.tar                 the `docker save` archive (what the store holds, by CID)
//   <name>@<version>/manifest.json       the manifest record (dag-json; its CID is the module's)
//   <name>@<version>/build.json          the build stamp (recipe hash, IDs, sizes)
//   <name>@<version>/build.log           what the tools said
//   index.json                           { "<name>@<version>": { manifest, image, archive } }
// A module whose recipe is unchanged and whose image is still on the engine is not rebuilt; if
// only the engine lost the image, it is loaded back from the archive. Two modules build at a
// time. One progress line per module, with its time and size.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DockerEngine, findOrStartDocker } from "@lily/executor";
import { LilyError, ModuleManifest, cidForRecord, isLilyError, parse } from "@lily/protocol";
import { archiveCid } from "./images/archiveCid.ts";
import { diskUsage, runCommand } from "./images/command.ts";
import { imageId, imageSize, importRootfs, loadArchive, removeImage, saveArchive, tagImage } from "./images/engineImages.ts";
import { probe } from "./images/probe.ts";
import { ALWAYS_PRUNED, pruneGlobs, pruneUnloadedLibraries } from "./images/prune.ts";
import { containerNames, MODULES_DIR, readRecipe, type ContainerRecipe } from "./images/recipe.ts";
import { bootstrap, install } from "./images/rootfs.ts";

export const IMAGES_DIR = join(MODULES_DIR, "dist", "images");

export interface BuildImagesOptions {
  /** Folder names under modules/containers/ to build; default all of them. */
  names?: string[];
  /** Where the output goes; default modules/dist/images. */
  imagesDir?: string;
  /** The folder holding the module folders; default modules/containers (`lily module build` passes a creator's own). */
  containersDir?: string;
  /** The engine to build on; default the one `findOrStartDocker` finds (DOCKER_HOST honoured). */
  engine?: DockerEngine;
  /** Modules built at once; default 2 (each debootstrap keeps about one core busy). */
  concurrency?: number;
  /** One line per module (and per failure). */
  onProgress?: (line: string) => void;
}

export interface BuildStamp {
  recipeHash: string;
  image: string;
  archive: string;
  archiveBytes: number;
  /** The manifest's CID, as last derived. */
  manifest: string;
  sizes: { rootfsBytes: number; prunedBytes: number; imageBytes: number; librariesRemoved: number; librariesBytes: number };
  buildSeconds: number;
}

export interface BuiltImage {
  ref: string;
  /** built: made now; loaded: recipe unchanged, image loaded back from the archive; unchanged: nothing to do. */
  status: "built" | "loaded" | "unchanged";
  manifest: ModuleManifest;
  manifestCid: string;
  image: string;
  archive: string;
  archivePath: string;
  stamp: BuildStamp;
  seconds: number;
}

export type ImageIndex = Record<string, { manifest: string; image: string; archive: string }>;

const MB = 1e6;
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

/** Where a build that finds no engine starts its private one: beside the devnet's, under $LILY_HOME. */
export function defaultDockerHome(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.LILY_HOME ? resolve(env.LILY_HOME) : join(homedir(), ".lily"), "docker");
}

export async function buildImages(opts: BuildImagesOptions = {}): Promise<BuiltImage[]> {
  const imagesDir = opts.imagesDir ?? IMAGES_DIR;
  const names = opts.names ?? containerNames(opts.containersDir);
  const say = opts.onProgress ?? (() => {});
  const recipes = names.map((name) => readRecipe(name, opts.containersDir));
  mkdirSync(imagesDir, { recursive: true });

  let stopEngine = async () => {};
  let engine = opts.engine;
  if (!engine) {
    const found = await findOrStartDocker({ home: defaultDockerHome(), onProgress: say });
    if ("unavailable" in found)
      throw new LilyError({ code: "EXECUTOR_UNAVAILABLE", field: "docker", message: found.unavailable, hint: "install docker.io or set DOCKER_HOST" });
    engine = new DockerEngine(found.endpoint);
    stopEngine = found.stop;
  }
  const results: BuiltImage[] = [];
  const failures: LilyError[] = [];
  try {
    const queue = [...recipes];
    const worker = async () => {
      for (let recipe = queue.shift(); recipe; recipe = queue.shift()) {
        try {
          const built = await buildOne(recipe, engine, imagesDir);
          results.push(built);
          say(progressLine(built));
        } catch (e) {
          if (!isLilyError(e)) throw e;
          failures.push(e);
          say(`${recipe.ref.padEnd(22)} FAILED      ${e.message}`);
          if (typeof e.details.tail === "string") say(e.details.tail.replace(/^/gm, "    "));
          if (typeof e.details.log === "string") say(`    (the whole log: ${e.details.log})`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 2, recipes.length)) }, worker));
  } finally {
    await stopEngine();
  }
  writeIndex(imagesDir, results);
  if (failures.length) throw failures[0]!;
  return results.sort((a, b) => a.ref.localeCompare(b.ref));
}

function progressLine(b: BuiltImage): string {
  const s = b.stamp.sizes;
  const size = `${mb(s.imageBytes)} image`;
  const what = b.status === "built" ? `${size} (rootfs ${mb(s.rootfsBytes)} → ${mb(s.prunedBytes)}, ${s.librariesRemoved} unused libraries out)` : size;
  return `${b.ref.padEnd(22)} ${b.status.padEnd(10)}  ${what}, ${b.seconds.toFixed(1)} s  ${b.image.slice(0, 19)}…`;
}

function readStamp(path: string): BuildStamp | undefined {
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as BuildStamp) : undefined;
}

async function buildOne(recipe: ContainerRecipe, engine: DockerEngine, imagesDir: string): Promise<BuiltImage> {
  const started = performance.now();
  const outDir = join(imagesDir, recipe.ref);
  mkdirSync(outDir, { recursive: true });
  const stampPath = join(outDir, "build.json");
  const archivePath = join(imagesDir, `${recipe.ref}.tar`);
  const previous = readStamp(stampPath);
  let stamp: Omit<BuildStamp, "manifest"> | undefined;
  let status: BuiltImage["status"] = "unchanged";

  // Unchanged: the same recipe, its archive still as saved, and its image on the engine.
  if (previous?.recipeHash === recipe.hash && existsSync(archivePath) && statSync(archivePath).size === previous.archiveBytes) {
    if ((await imageId(engine, previous.image)) === previous.image) stamp = previous;
    else if ((await archiveCid(archivePath)).cid === previous.archive) {
      // The engine lost the image (a fresh daemon): the archive is the image, load it back.
      const loaded = await loadArchive(engine, archivePath);
      // REJECT: the archive must hold the very image the stamp names
      if (loaded.length === 1 && loaded[0] === previous.image) {
        await tagImage(engine, previous.image, recipe.name, recipe.manifest.version);
        stamp = previous;
        status = "loaded";
      }
    }
  }
  if (!stamp) {
    stamp = await buildImage(recipe, engine, imagesDir, archivePath, join(outDir, "build.log"));
    status = "built";
    if (previous?.image && previous.image !== stamp.image) await removeImage(engine, previous.image);
  }

  // The manifest is always derived again, so a change to it (or to the schema) never leaves a stale CID.
  const manifest = parse(
    ModuleManifest,
    { ...recipe.declared, executor: { ...(recipe.declared.executor as object), image: stamp.image, archive: stamp.archive } },
    `modules/containers/${recipe.name}/manifest.json`,
  );
  const record = cidForRecord(manifest);
  writeFileSync(join(outDir, "manifest.json"), record.bytes);
  const full: BuildStamp = { ...stamp, manifest: record.cid };
  writeFileSync(stampPath, `${JSON.stringify(full, null, 2)}\n`);
  return {
    ref: recipe.ref,
    status,
    manifest,
    manifestCid: record.cid,
    image: stamp.image,
    archive: stamp.archive,
    archivePath,
    stamp: full,
    seconds: (performance.now() - started) / 1000,
  };
}

async function buildImage(
  recipe: ContainerRecipe,
  engine: DockerEngine,
  imagesDir: string,
  archivePath: string,
  log: string,
): Promise<Omit<BuildStamp, "manifest">> {
  // REJECT: debootstrap and chroot need root (checked only now: finding everything built needs nothing)
  if (process.getuid?.() !== 0)
    throw new LilyError({
      code: "CONFIG",
      field: `modules/containers/${recipe.name}`,
      message: `building the ${recipe.ref} image needs root (debootstrap and chroot)`,
      hint: "run npm run build:images as root",
    });
  const started = performance.now();
  writeFileSync(log, `build of ${recipe.ref}, recipe ${recipe.hash}\n`);
  const root = join(imagesDir, "rootfs", recipe.name);
  mkdirSync(join(imagesDir, "rootfs"), { recursive: true });
  try {
    const paths = { root, debCache: join(imagesDir, "debs"), log };
    await bootstrap(recipe, paths);
    await install(recipe, paths);
    const rootfsBytes = await diskUsage(root);
    const traced = await probe(recipe, root, log, { trace: true });
    const libraries = pruneUnloadedLibraries(root, traced.traces);
    await runCommand("chroot", [root, "ldconfig"], { field: `modules/containers/${recipe.name}`, log });
    pruneGlobs(root, [...ALWAYS_PRUNED, ...recipe.prune]);
    await probe(recipe, root, log, { trace: false });
    const prunedBytes = await diskUsage(root);
    const image = await importRootfs(engine, root, recipe.name, recipe.manifest.version);
    await saveArchive(engine, image, archivePath);
    const archive = await archiveCid(archivePath);
    return {
      recipeHash: recipe.hash,
      image,
      archive: archive.cid,
      archiveBytes: archive.size,
      sizes: {
        rootfsBytes,
        prunedBytes,
        imageBytes: await imageSize(engine, image),
        librariesRemoved: libraries.removed.length,
        librariesBytes: libraries.bytes,
      },
      buildSeconds: Math.round((performance.now() - started) / 100) / 10,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** dist/images/index.json: this build's modules, plus those built before that are still there. */
function writeIndex(imagesDir: string, results: BuiltImage[]): void {
  const path = join(imagesDir, "index.json");
  const before: ImageIndex = existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as ImageIndex) : {};
  const index = Object.fromEntries(Object.entries(before).filter(([ref]) => existsSync(join(imagesDir, ref, "manifest.json")))) as ImageIndex;
  for (const b of results) index[b.ref] = { manifest: b.manifestCid, image: b.image, archive: b.archive };
  const sorted = Object.fromEntries(Object.entries(index).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(path, `${JSON.stringify(sorted, null, 2)}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2);
  const started = performance.now();
  try {
    const built = await buildImages({ names: names.length ? names : undefined, onProgress: (line) => console.log(line) });
    console.log(`${built.length} image(s) in ${((performance.now() - started) / 1000).toFixed(1)} s; index: ${join(IMAGES_DIR, "index.json")}`);
  } catch (e) {
    if (!isLilyError(e)) throw e;
    console.error(`build:images failed: ${e.message}${e.hint ? ` (${e.hint})` : ""}`);
    process.exitCode = 1;
  }
}
