// A process's CPU split by thread, from /proc: its main thread, V8's helper threads (garbage
// collection and optimizing compilation, named "V8Worker"), and the rest (worker threads such as
// the WASM sandbox's, libuv's pool, anvil's runtime). A V8 CPU profile sees only the thread it
// profiles: a provider's sandbox workers once used more CPU than its main thread (each loading
// Node's type stripper for itself) and no profile showed it.
import { readdirSync, readFileSync } from "node:fs";

const CLK_TCK = 100; // Linux's USER_HZ: /proc counts CPU time in 1/100 s

/** CPU seconds so far: the whole process (threads that ended included) and each live thread. */
export interface ThreadCpu {
  total: number;
  /** Thread id -> [name, seconds]. */
  threads: Map<string, [string, number]>;
}

/**
 * A /proc stat file (`/proc/<pid>/stat` or a thread's `/proc/<pid>/task/<tid>/stat`): the command
 * name (field 2, which may hold spaces) and the CPU seconds used, utime + stime (fields 14 and 15).
 */
export function procStat(path: string): [name: string, cpuSeconds: number] {
  const stat = readFileSync(path, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return [stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), (Number(f[11]) + Number(f[12])) / CLK_TCK];
}

/** The process's CPU now, or undefined once it is gone. */
export function threadCpu(pid: number): ThreadCpu | undefined {
  try {
    const threads = new Map<string, [string, number]>();
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        threads.set(tid, procStat(`/proc/${pid}/task/${tid}/stat`));
      } catch {
        // the thread ended meanwhile: its CPU is in the process's total
      }
    }
    return { total: procStat(`/proc/${pid}/stat`)[1], threads };
  } catch {
    return undefined;
  }
}

export interface CpuSplit {
  seconds: number;
  main: number;
  v8Helpers: number;
  /** Everything else, threads that started or ended in between included. */
  other: number;
}

/** What the process used between two readings, by kind of thread. */
export function cpuBetween(pid: number, before: ThreadCpu | undefined, after: ThreadCpu | undefined): CpuSplit {
  if (!before || !after) return { seconds: Number.NaN, main: Number.NaN, v8Helpers: Number.NaN, other: Number.NaN };
  const used = (tid: string) => (after.threads.get(tid)?.[1] ?? 0) - (before.threads.get(tid)?.[1] ?? 0);
  const main = used(String(pid));
  let v8Helpers = 0;
  for (const [tid, [name]] of after.threads) if (name.startsWith("V8Worker") || name.startsWith("V8 ")) v8Helpers += used(tid);
  const seconds = after.total - before.total;
  // The threads are read a moment before the total, so an idle process can come out a tick short.
  return { seconds, main, v8Helpers, other: Math.max(0, seconds - main - v8Helpers) };
}
