// The container image builder `lily module build` uses for docker modules: the very recipe the
// repo's own container modules are built with (modules/scripts/buildImages.ts: Debian packages by
// debootstrap, the entry program, pruned, imported into the engine, saved as an archive), on the
// engine `findOrStartDocker` finds. Building needs root (debootstrap, chroot) and a Docker engine.
import { basename, dirname, join } from "node:path";
import { buildImages } from "@lily/modules/buildImages";
import type { ImageBuilder } from "./build.ts";

export async function containerImageBuilder(): Promise<ImageBuilder> {
  return {
    async build(dir, _declared, onProgress) {
      const [built] = await buildImages({ names: [basename(dir)], containersDir: dirname(dir), imagesDir: join(dir, "build", "images"), onProgress });
      return { image: built!.image, archivePath: built!.archivePath, archiveCid: built!.archive };
    },
  };
}
