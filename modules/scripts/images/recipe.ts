// A container module's recipe: its folder under modules/containers/, read and checked. The folder
// holds manifest.json (a ModuleManifest whose docker executor lacks `image` and `archive`, which
// the build fills in), `run` (the entry program, installed as /lily/run), `packages` (Debian
// packages, one a line, # comments), `probe.sh` (run in the image at build time as root: it writes
// sample inputs to /inputs, then the build runs the module on them, as a smoke test and to learn
// which shared libraries it loads) and optionally `prune` (globs of files the module never needs).
// The recipe hash covers everything that decides the image's bytes, so an unchanged recipe is
// not rebuilt.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { LilyError, ModuleManifest, cidForBytes, moduleRef, parse } from "@lily/protocol";

export const MODULES_DIR = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
export const CONTAINERS_DIR = join(MODULES_DIR, "containers");
/** The build steps' sources: a change to how images are made rebuilds every image (the orchestration in buildImages.ts does not decide their bytes). */
const BUILD_SOURCES = [join(MODULES_DIR, "scripts", "images")];

/** Where every image comes from: Debian's packages, nothing else. */
export const DEBIAN = { suite: "bookworm", variant: "minbase", mirror: process.env.LILY_DEBIAN_MIRROR ?? "http://deb.debian.org/debian" } as const;

export interface ContainerRecipe {
  /** The folder's name, e.g. `ocr`. */
  name: string;
  /** name@version. */
  ref: string;
  dir: string;
  /** manifest.json as written (executor without image and archive). */
  declared: Record<string, unknown>;
  /** The declared manifest checked with placeholders for what the build fills in. */
  manifest: ModuleManifest;
  packages: string[];
  /** Globs (relative to the image root) of files to remove; a leading `!` keeps matches instead. */
  prune: string[];
  /** sha256 of everything that decides the image's bytes. */
  hash: string;
}

const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;
/** Stand-ins for the fields the build fills, so the rest of the manifest is checked before building. */
const PLACEHOLDER = { image: `sha256:${"0".repeat(64)}`, archive: cidForBytes(new Uint8Array()) };

function bad(field: string, message: string): LilyError {
  return new LilyError({ code: "INVALID_INPUT", field, message: `${field}: ${message}` });
}

function lines(path: string): string[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter((l) => l.length > 0);
}

function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => filesUnder(join(path, name)));
}

/** The container modules' folder names, in order. */
export function containerNames(containersDir: string = CONTAINERS_DIR): string[] {
  return readdirSync(containersDir)
    .filter((d) => existsSync(join(containersDir, d, "manifest.json")))
    .sort();
}

export function readRecipe(name: string, containersDir: string = CONTAINERS_DIR): ContainerRecipe {
  const dir = join(containersDir, name);
  const at = `modules/containers/${name}`;
  const declared = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Record<string, unknown>;
  const executor = declared.executor as Record<string, unknown> | undefined;
  if (executor?.kind !== "docker")
    throw bad(`${at}/manifest.json.executor.kind`, `a container module's executor is "docker", got ${JSON.stringify(executor?.kind)}`);
  if ("image" in executor || "archive" in executor) throw bad(`${at}/manifest.json.executor`, "image and archive are filled in by the build; leave them out");
  const manifest = parse(ModuleManifest, { ...declared, executor: { ...executor, ...PLACEHOLDER } }, `${at}/manifest.json`);
  if (manifest.name !== name) throw bad(`${at}/manifest.json.name`, `must be the folder's name, "${name}"`);

  for (const file of ["run", "packages", "probe.sh"]) if (!existsSync(join(dir, file))) throw bad(`${at}/${file}`, "is missing");
  // REJECT: the entry program must be executable, or the container's command cannot start
  if ((statSync(join(dir, "run")).mode & 0o111) === 0) throw bad(`${at}/run`, "must be executable (chmod +x)");
  const packages = lines(join(dir, "packages"));
  for (const p of packages) if (!PACKAGE_NAME.test(p)) throw bad(`${at}/packages`, `"${p}" is not a Debian package name`);
  if (packages.length === 0) throw bad(`${at}/packages`, "names no package");
  const prune = existsSync(join(dir, "prune")) ? lines(join(dir, "prune")) : [];
  for (const g of prune)
    if (g.replace(/^!/, "").startsWith("/") || g.includes("..")) throw bad(`${at}/prune`, `"${g}" must be relative to the image root, without ..`);

  const hash = createHash("sha256").update(JSON.stringify({ DEBIAN: { ...DEBIAN, mirror: undefined }, packages }));
  // Files by their place in the recipe (or in the build), so a copy of the folder elsewhere hashes the same.
  const files = [
    // build/ is where `lily module build` writes a creator's output: not part of the recipe.
    ...filesUnder(dir)
      .filter((f) => f !== join(dir, "manifest.json") && !f.startsWith(join(dir, "build") + sep))
      .map((f) => [`${name}${f.slice(dir.length)}`, f]),
    ...BUILD_SOURCES.flatMap(filesUnder).map((f) => [f.slice(MODULES_DIR.length), f]),
  ];
  for (const [label, file] of files as [string, string][]) {
    // The entry program's mode is part of the image.
    hash
      .update(label)
      .update("\0")
      .update(String(statSync(file).mode & 0o777))
      .update("\0")
      .update(readFileSync(file))
      .update("\0");
  }
  return { name, ref: moduleRef(manifest), dir, declared, manifest, packages, prune, hash: hash.digest("hex") };
}
