// An image's root filesystem, made from Debian's packages: debootstrap's minbase plus the recipe's
// packages, then the entry program at /lily/run, a non-root user, and the mount points of the
// execution contract. Downloads go through one shared cache of .deb files; they are fetched one
// module at a time (debootstrap writes the cache without locking), installs then run in parallel
// from the filled cache.
import { chmodSync, copyFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "./command.ts";
import { DEBIAN, type ContainerRecipe } from "./recipe.ts";

/** The user the image names (the executor may run it as another non-root user). */
export const IMAGE_USER = { name: "lily", uid: 1000, gid: 1000 };
export const ENTRY_PATH = "/lily/run";

export interface RootfsPaths {
  /** Where the root filesystem is made (removed first). */
  root: string;
  /** The shared .deb cache, kept between builds. */
  debCache: string;
  /** The build log of this module. */
  log: string;
}

/** One download at a time into the shared cache. */
let downloads: Promise<unknown> = Promise.resolve();

function debootstrapArgs(recipe: ContainerRecipe, paths: RootfsPaths, target: string, downloadOnly: boolean): string[] {
  return [
    `--variant=${DEBIAN.variant}`,
    `--include=${recipe.packages.join(",")}`,
    `--cache-dir=${paths.debCache}`,
    ...(downloadOnly ? ["--download-only"] : []),
    DEBIAN.suite,
    target,
    DEBIAN.mirror,
  ];
}

/** Debootstrap the recipe's packages into `paths.root`. */
export async function bootstrap(recipe: ContainerRecipe, paths: RootfsPaths): Promise<void> {
  const field = `modules/containers/${recipe.name}/packages`;
  mkdirSync(paths.debCache, { recursive: true });
  rmSync(paths.root, { recursive: true, force: true });
  const fetching = `${paths.root}.download`;
  const fetch = downloads.then(async () => {
    rmSync(fetching, { recursive: true, force: true });
    try {
      await runCommand("debootstrap", debootstrapArgs(recipe, paths, fetching, true), { field, log: paths.log });
    } finally {
      rmSync(fetching, { recursive: true, force: true });
    }
  });
  // The next module's download waits for this one, whether it worked or not.
  downloads = fetch.catch(() => {});
  await fetch;
  await runCommand("debootstrap", debootstrapArgs(recipe, paths, paths.root, false), { field, log: paths.log });
}

/** Put the entry program in, add the image's user, and make /inputs and /outputs. */
export async function install(recipe: ContainerRecipe, paths: RootfsPaths): Promise<void> {
  const { root } = paths;
  mkdirSync(join(root, "lily"), { recursive: true });
  copyFileSync(join(recipe.dir, "run"), join(root, ENTRY_PATH));
  chmodSync(join(root, ENTRY_PATH), 0o755);
  for (const dir of ["inputs", "outputs"]) {
    mkdirSync(join(root, dir), { recursive: true });
    chmodSync(join(root, dir), 0o755);
  }
  await runCommand(
    "chroot",
    [
      root,
      "useradd",
      ...["--uid", String(IMAGE_USER.uid), "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin"],
      IMAGE_USER.name,
    ],
    { field: `modules/containers/${recipe.name}`, log: paths.log },
  );
}
