// Inputs with known answers, made by the test itself from Debian's tools and packages: text
// rendered to a PNG (ImageMagick, DejaVu Sans), speech synthesised to a WAV (espeak-ng), and the
// public-domain NASA astronaut portrait that Debian's python3-skimage package ships (fetched with
// `apt-get download`, unpacked with `dpkg -x`, kept in a cache folder between runs).
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A PNG of `text` in DejaVu Sans at 48 points, black on white. */
export function renderText(text: string, dir: string): Uint8Array {
  const path = join(dir, "text.png");
  execFileSync("convert", ["-font", "DejaVu-Sans", "-pointsize", "48", `label:${text}`, path]);
  return new Uint8Array(readFileSync(path));
}

/** A WAV (22.05 kHz mono, espeak-ng's own format) of `text` spoken by espeak-ng's default English voice. */
export function speak(text: string, dir: string, opts: { ssml?: boolean } = {}): Uint8Array {
  const path = join(dir, "speech.wav");
  execFileSync("espeak-ng", [...(opts.ssml ? ["-m"] : []), "-w", path, text]);
  return new Uint8Array(readFileSync(path));
}

const SKIMAGE_PACKAGE = "python3-skimage";
const ASTRONAUT = "usr/lib/python3/dist-packages/skimage/data/astronaut.png";

/** skimage/data/astronaut.png (512x512, public domain: NASA's portrait of Eileen Collins), from Debian's python3-skimage. */
export function astronautPng(cacheDir: string = join(tmpdir(), "lily-test-fixtures")): Uint8Array {
  const cached = join(cacheDir, "astronaut.png");
  if (!existsSync(cached)) {
    mkdirSync(cacheDir, { recursive: true });
    const work = mkdtempSync(join(cacheDir, "skimage-"));
    try {
      // Where `apt-get download` writes (the working directory) must be writable by apt's sandbox user, or it warns and goes on as root.
      execFileSync("apt-get", ["download", "-q", SKIMAGE_PACKAGE], { cwd: work, stdio: ["ignore", "ignore", "pipe"] });
      const deb = readdirSync(work).find((f) => f.startsWith(`${SKIMAGE_PACKAGE}_`) && f.endsWith(".deb"));
      if (!deb) throw new Error(`apt-get download ${SKIMAGE_PACKAGE} left no .deb in ${work}`);
      execFileSync("dpkg", ["-x", join(work, deb), join(work, "x")]);
      copyFileSync(join(work, "x", ASTRONAUT), cached);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  return new Uint8Array(readFileSync(cached));
}
