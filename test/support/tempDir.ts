// Temporary folders for tests that are removed when the test file's process exits. Every test file
// runs in its own process, so a folder lives exactly as long as the file that made it: long enough
// for a restarted role to find its database, and no longer. Without this, a full run left ~30 GB
// behind (devnet stores holding container images, copies of the built catalogue) and a later
// `npm ci` on the same disk failed with ENOSPC.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made: string[] = [];

process.once("exit", () => {
  for (const dir of made) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch (e) {
      // A process still writing into the folder (a role that outlived its test) can make removal
      // fail; say so rather than fail a run whose tests passed.
      process.stderr.write(`tempDir: could not remove ${dir}: ${(e as Error).message}\n`);
    }
  }
});

/** A new empty folder under the system's temp folder, named `<prefix>XXXXXX`, removed at exit. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
