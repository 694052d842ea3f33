// node:wasi never closes the host descriptors it opens: not the preopened directories (uvwasi
// does not close them when it is destroyed), not the files a module leaves open, and nothing at
// all when the worker is terminated at a limit. Once a task's worker has exited, any descriptor
// of this process that still points into the task's own directories is one of those, so it is
// closed here. Linux only (it reads /proc/self/fd); elsewhere they stay open until the process exits.
import { closeSync, existsSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import { sep } from "node:path";

const FD_DIR = "/proc/self/fd";

/** Close every descriptor open on `dirs` or on anything under them; returns how many were closed. */
export function closeStrayDescriptors(dirs: string[]): number {
  if (!existsSync(FD_DIR)) return 0;
  const roots = dirs.map((d) => realpathSync(d));
  const inside = (target: string) => roots.some((root) => target === root || target.startsWith(root + sep));
  let closed = 0;
  for (const name of readdirSync(FD_DIR)) {
    const fd = Number(name);
    let target: string;
    try {
      target = readlinkSync(`${FD_DIR}/${name}`);
    } catch {
      continue; // closed meanwhile, or the descriptor that listed the directory
    }
    if (!inside(target.replace(/ \(deleted\)$/, ""))) continue;
    closeSync(fd);
    closed++;
  }
  return closed;
}
