// Peak resident memory (VmHWM) of processes, from /proc (Linux only), and the same figure for
// the floors a role process starts from: a bare Node process, and `lily <command> --help` (the
// CLI and that command's modules loaded, with the flags the role runs with, nothing running).
// Not `lily --help`: it prints text the build rendered and loads none of the CLI.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** VmHWM and VmRSS of a live process, in KiB; undefined when it is gone or /proc is absent. */
export function procMemory(pid: number): { hwmKib: number; rssKib: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
    const hwmKib = field("VmHWM");
    const rssKib = field("VmRSS");
    return Number.isFinite(hwmKib) ? { hwmKib, rssKib } : undefined;
  } catch {
    return undefined;
  }
}

/** Peak RSS of a Node process (this binary) that loads nothing and exits, in KiB. */
export function bareNodeHwmKib(): number | undefined {
  try {
    const out = execFileSync(
      process.execPath,
      ["-e", "process.stdout.write(/VmHWM:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status','utf8'))[1])"],
      {
        encoding: "utf8",
      },
    );
    const kib = Number(out.trim());
    return Number.isFinite(kib) ? kib : undefined;
  } catch {
    return undefined;
  }
}

/** Peak RSS of `lily <command> --help`, read as it exits, in KiB. */
export function cliLoadedHwmKib(lily: string, command: string): number | undefined {
  const hook =
    "process.on('exit',()=>process.stderr.write('\\nVmHWM='+/VmHWM:\\s+(\\d+)/.exec(process.getBuiltinModule('fs').readFileSync('/proc/self/status','utf8'))[1]+'\\n'))";
  const r = spawnSync(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(hook)}`, lily, command, "--help"], { encoding: "utf8" });
  const kib = Number(/VmHWM=(\d+)/.exec(r.stderr ?? "")?.[1]);
  return Number.isFinite(kib) && kib > 0 ? kib : undefined;
}
