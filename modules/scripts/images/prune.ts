// Keeping images slim. Three passes over a root filesystem:
//   1. shared libraries no process of the probe run loaded (the loader's own log says which were)
//      are removed, except those of Debian's base system (what minbase installs), which other
//      tools may load. Package dependencies drag in far more than a program loads: python3-
//      opencv pulls in Qt, VTK, GDAL, LLVM and Mesa's drivers, which `import cv2` never opens;
//   2. what no program needs at run time, in every image: documentation (the copyright files
//      stay), manuals, translations, package lists and caches, logs, and the package manager itself
//      (apt, debconf, perl: an image is never upgraded in place, it is rebuilt);
//   3. the recipe's own `prune` globs.
// The probe then runs again on the pruned tree: a library removed wrongly fails the build.
import { existsSync, globSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync } from "node:fs";
import { dirname, join, matchesGlob, posix } from "node:path";

/** Removed from every image (globs relative to the root); `!` keeps matches. */
export const ALWAYS_PRUNED = [
  "usr/share/doc/**",
  "!usr/share/doc/*/copyright",
  "usr/share/man/**",
  "usr/share/info/**",
  "usr/share/locale/**",
  "usr/share/lintian/**",
  "usr/share/bug/**",
  "usr/share/menu/**",
  "usr/share/doc-base/**",
  "usr/share/bash-completion/**",
  "var/log/**",
  "var/cache/**",
  "var/lib/apt/**",
  "var/lib/dpkg/*-old",
  "var/lib/dpkg/info/**",
  "etc/apt/**",
  "usr/bin/apt*",
  "usr/lib/apt/**",
  "usr/lib/x86_64-linux-gnu/libapt-*",
  "usr/share/debconf/**",
  "usr/bin/debconf*",
  "usr/sbin/dpkg-preconfigure",
  "usr/sbin/dpkg-reconfigure",
  "usr/share/perl5/**",
  "usr/bin/perl*",
  "usr/lib/x86_64-linux-gnu/perl-base/**",
];

const LIBRARY_DIR = "usr/lib/x86_64-linux-gnu";
const SHARED_OBJECT = /\.so(\.[0-9][0-9.]*)?$/;

/** Every absolute path the loader tried or loaded, from LD_DEBUG=libs,files logs. */
export function loadedPaths(traces: string[]): Set<string> {
  const paths = new Set<string>();
  for (const trace of traces) {
    for (const m of trace.matchAll(/trying file=(\/\S+)|\bfile=(\/\S+) \[\d+\]/g)) paths.add((m[1] ?? m[2])!);
  }
  return paths;
}

/** Debian's merged /usr: packages still name /lib/... files that live in /usr/lib/... */
function mergedUsr(path: string): string {
  return path.replace(/^\/(lib|lib64|bin|sbin)\//, "/usr/$1/");
}

/**
 * Follow `path` (absolute, inside the image) through symlinks as the image would see them, with
 * `root` as `/`. Returns the final path inside the image, or undefined if it does not exist.
 */
export function resolveInRoot(root: string, path: string): string | undefined {
  const parts = path.split("/").filter(Boolean);
  const done: string[] = [];
  for (let hops = 0; parts.length > 0; ) {
    const part = parts.shift()!;
    if (part === ".") continue;
    if (part === "..") {
      done.pop();
      continue;
    }
    const here = join(root, ...done, part);
    const stat = lstatSync(here, { throwIfNoEntry: false });
    if (!stat) return undefined;
    if (stat.isSymbolicLink()) {
      if (++hops > 40) return undefined;
      const target = readlinkSync(here);
      if (target.startsWith("/")) done.length = 0;
      parts.unshift(...target.split("/").filter(Boolean));
      continue;
    }
    done.push(part);
  }
  return `/${done.join("/")}`;
}

/**
 * Files of Debian's base system, as paths in the image: the packages of priority required or
 * important, and everything they depend on (libraries are mostly of priority optional, libc6
 * included, so priority alone would miss the loader itself).
 */
export function baseSystemFiles(root: string): Set<string> {
  const status = readFileSync(join(root, "var/lib/dpkg/status"), "utf8");
  const packages = new Map<string, { priority?: string; arch?: string; depends: string[] }>();
  const providers = new Map<string, string[]>();
  for (const paragraph of status.split(/\n\n+/)) {
    const field = (name: string) => new RegExp(`^${name}: (.*)$`, "m").exec(paragraph)?.[1]?.trim();
    const name = field("Package");
    if (!name || !/ installed$/.test(field("Status") ?? "")) continue;
    // Every alternative counts: whichever is installed may be the one in use.
    const depends = [field("Pre-Depends"), field("Depends")]
      .filter((d): d is string => d !== undefined)
      .flatMap((d) => d.split(/[,|]/))
      .map((d) => d.trim().split(/[\s:(]/)[0]!)
      .filter(Boolean);
    packages.set(name, { priority: field("Priority"), arch: field("Architecture"), depends });
    for (const virtual of (field("Provides") ?? "").split(",").map((p) => p.trim().split(/[\s(]/)[0]!)) {
      if (virtual) providers.set(virtual, [...(providers.get(virtual) ?? []), name]);
    }
  }
  const base = new Set<string>();
  const queue = [...packages].filter(([, p]) => p.priority === "required" || p.priority === "important").map(([name]) => name);
  for (let name = queue.pop(); name !== undefined; name = queue.pop()) {
    for (const real of packages.has(name) ? [name] : (providers.get(name) ?? [])) {
      if (base.has(real)) continue;
      base.add(real);
      queue.push(...packages.get(real)!.depends);
    }
  }
  const files = new Set<string>();
  for (const name of base) {
    for (const list of [`${name}.list`, `${name}:${packages.get(name)!.arch}.list`]) {
      const path = join(root, "var/lib/dpkg/info", list);
      if (!existsSync(path)) continue;
      for (const line of readFileSync(path, "utf8").split("\n")) if (line) files.add(mergedUsr(line));
    }
  }
  return files;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else out.push(path);
  }
  return out;
}

export interface LibraryPrune {
  removed: string[];
  bytes: number;
}

/** Pass 1: remove shared libraries outside the base system that no traced process loaded. */
export function pruneUnloadedLibraries(root: string, traces: string[]): LibraryPrune {
  const kept = new Set<string>();
  for (const path of loadedPaths(traces)) {
    const real = resolveInRoot(root, path);
    if (real) kept.add(real);
  }
  const base = baseSystemFiles(root);
  const removed: string[] = [];
  let bytes = 0;
  const files = walk(join(root, LIBRARY_DIR));
  // Where each link leads, before anything is removed: a link to a removed library goes with it.
  const links = new Map<string, string | undefined>();
  for (const file of files) if (lstatSync(file).isSymbolicLink()) links.set(file, resolveInRoot(root, `/${posix.relative(root, file)}`));
  for (const file of files) {
    const inImage = `/${posix.relative(root, file)}`;
    const stat = lstatSync(file);
    if (!stat.isFile() || !SHARED_OBJECT.test(file) || base.has(inImage) || kept.has(inImage)) continue;
    rmSync(file);
    removed.push(inImage);
    bytes += stat.size;
  }
  const gone = new Set(removed);
  for (const [link, target] of links) if (target !== undefined && gone.has(target)) rmSync(link);
  return { removed, bytes };
}

/** Passes 2 and 3: remove what `patterns` match (files and links; directories left empty go too), except what a `!` pattern keeps. */
export function pruneGlobs(root: string, patterns: string[]): number {
  const keep = patterns.filter((p) => p.startsWith("!")).map((p) => p.slice(1));
  let bytes = 0;
  const dirs = new Set<string>();
  for (const pattern of patterns.filter((p) => !p.startsWith("!"))) {
    for (const match of globSync(pattern, { cwd: root })) {
      const path = join(root, match);
      const stat = lstatSync(path, { throwIfNoEntry: false });
      if (!stat) continue;
      const victims = stat.isDirectory() ? walk(path) : [path];
      if (stat.isDirectory()) dirs.add(path);
      for (const victim of victims) {
        const rel = posix.relative(root, victim);
        if (keep.some((k) => matchesGlob(rel, k))) continue;
        const s = lstatSync(victim, { throwIfNoEntry: false });
        if (!s) continue;
        bytes += s.isFile() ? s.size : 0;
        rmSync(victim, { force: true });
        dirs.add(dirname(victim));
      }
    }
  }
  // Deepest first, so a parent emptied by its children goes too (never above a matched directory's own level).
  for (const dir of [...dirs].sort((a, b) => b.length - a.length)) removeIfEmpty(dir);
  return bytes;
}

function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}
