// Slimming an image removes only what no run needs: the loader's log names what was loaded, links
// are followed as inside the image (absolute ones from the image's root), and a `!` glob keeps
// what a broader one would remove.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { baseSystemFiles, loadedPaths, pruneGlobs, pruneUnloadedLibraries, resolveInRoot } from "../../modules/scripts/images/prune.ts";
import { tempDir } from "../support/tempDir.ts";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A root filesystem from a list of files (path -> contents) and links (path -> target). */
function tree(files: Record<string, string>, links: Record<string, string> = {}): string {
  const root = tempDir("lily-prune-");
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  for (const [path, target] of Object.entries(links)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    symlinkSync(target, join(root, path));
  }
  return root;
}

test("the loader's log yields every path it tried or loaded by absolute name", () => {
  const log = [
    "      8082:\tfile=libm.so.6 [0];  needed by python3 [0]",
    "      8082:\t  trying file=/lib/x86_64-linux-gnu/libm.so.6",
    "      8082:\tfile=libm.so.6 [0];  generating link map",
    "      8082:\tfile=/lib/python3/dist-packages/cv2.cpython-311-x86_64-linux-gnu.so [0];  dynamically loaded by python3 [0]",
  ].join("\n");
  assert.deepEqual([...loadedPaths([log])].sort(), ["/lib/python3/dist-packages/cv2.cpython-311-x86_64-linux-gnu.so", "/lib/x86_64-linux-gnu/libm.so.6"]);
});

test("links resolve inside the image: relative, absolute from the image's root, through merged /usr", () => {
  const root = tree(
    { "usr/lib/x86_64-linux-gnu/blas/libblas.so.3": "x" },
    {
      lib: "usr/lib",
      "etc/alternatives/libblas.so.3": "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3",
      "usr/lib/x86_64-linux-gnu/libblas.so.3": "/etc/alternatives/libblas.so.3",
    },
  );
  assert.equal(resolveInRoot(root, "/lib/x86_64-linux-gnu/libblas.so.3"), "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3");
  assert.equal(resolveInRoot(root, "/usr/lib/x86_64-linux-gnu/missing.so"), undefined);
});

test("libraries no process loaded are removed, with their links; loaded ones and the base system's stay", () => {
  const L = "usr/lib/x86_64-linux-gnu";
  const root = tree(
    {
      [`${L}/libused.so.1.2`]: "used",
      [`${L}/libunused.so.4.0`]: "unused!",
      [`${L}/dri/radeon_dri.so`]: "driver",
      [`${L}/libc.so.6`]: "libc",
      [`${L}/notalibrary.txt`]: "data",
      "var/lib/dpkg/status":
        "Package: libc6\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\n\nPackage: base-files\nStatus: install ok installed\nPriority: required\nArchitecture: amd64\nDepends: libc6 (>= 2.36)\n\nPackage: libunused4\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\n",
      "var/lib/dpkg/info/libc6:amd64.list": "/lib/x86_64-linux-gnu/libc.so.6\n",
    },
    { lib: "usr/lib", [`${L}/libused.so.1`]: "libused.so.1.2", [`${L}/libunused.so.4`]: "libunused.so.4.0" },
  );
  assert.ok(baseSystemFiles(root).has(`/${L}/libc.so.6`), "libc6 is base: base-files depends on it");
  const pruned = pruneUnloadedLibraries(root, ["  trying file=/lib/x86_64-linux-gnu/libused.so.1\n"]);
  assert.deepEqual(pruned.removed.sort(), [`/${L}/dri/radeon_dri.so`, `/${L}/libunused.so.4.0`]);
  assert.equal(pruned.bytes, "driver".length + "unused!".length);
  for (const kept of ["libused.so.1.2", "libused.so.1", "libc.so.6", "notalibrary.txt"]) assert.ok(existsSync(join(root, L, kept)), kept);
  assert.ok(!existsSync(join(root, L, "libunused.so.4")), "the link to a removed library goes too");
});

test("globs remove files and emptied folders, except what a ! glob keeps", () => {
  const root = tree({
    "usr/share/doc/foo/copyright": "c",
    "usr/share/doc/foo/changelog.gz": "log",
    "usr/share/man/man1/foo.1.gz": "man",
    "usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml": "keep",
    "usr/share/opencv4/haarcascades/haarcascade_eye.xml": "eye",
  });
  const bytes = pruneGlobs(root, [
    "usr/share/doc/**",
    "!usr/share/doc/*/copyright",
    "usr/share/man/**",
    "usr/share/opencv4/**",
    "!usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml",
  ]);
  assert.equal(bytes, "log".length + "man".length + "eye".length);
  assert.ok(existsSync(join(root, "usr/share/doc/foo/copyright")));
  assert.ok(existsSync(join(root, "usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml")));
  assert.ok(!existsSync(join(root, "usr/share/doc/foo/changelog.gz")));
  assert.ok(!existsSync(join(root, "usr/share/man")), "an emptied folder goes");
});
