// What this machine has: CPUs, memory, the free disk under the provider's work directory and its
// GPUs. The provider advertises what it detects unless its flags or config offer less: an
// operator may keep part of a machine back, never promise more than it has, since a deal it
// cannot run costs it its collateral.
import { mkdirSync, statfsSync } from "node:fs";
import os from "node:os";
import { detectGpus, type Gpu } from "@lily/executor";
import { isLilyError } from "@lily/protocol";
import { RESOURCE_KEYS, type Resources } from "./resources.ts";

export type { Gpu };

/** Finds the machine's GPUs; none where no driver answers. The default asks `nvidia-smi`. */
export type GpuDetector = () => Promise<Gpu[]>;

export interface Machine {
  cpu: number;
  /** Total memory, MiB. */
  memoryMb: number;
  /** Free space on the file system holding the work directory, bytes. */
  diskFreeBytes: number;
  gpus: Gpu[];
  /** Why no GPU was found although a driver is installed (it did not answer): none is offered then. */
  gpuError?: string;
}

export async function detectMachine(o: { workDir: string; detectGpus?: GpuDetector }): Promise<Machine> {
  const machine: Machine = {
    cpu: os.availableParallelism(),
    memoryMb: Math.floor(os.totalmem() / 1024 / 1024),
    diskFreeBytes: diskFreeBytes(o.workDir),
    gpus: [],
  };
  try {
    machine.gpus = await (o.detectGpus ?? (() => detectGpus()))();
  } catch (e) {
    // A driver that does not answer: the provider runs without GPUs and says why.
    if (!isLilyError(e, "EXECUTOR_UNAVAILABLE")) throw e;
    machine.gpuError = e.message;
  }
  return machine;
}

/** Free bytes on the file system of `dir` (created if missing, so a first start can measure it). */
export function diskFreeBytes(dir: string): number {
  mkdirSync(dir, { recursive: true });
  const s = statfsSync(dir);
  // bavail: what an unprivileged process may still write, not the root-reserved blocks too.
  return s.bavail * s.bsize;
}

/**
 * The four offer dimensions of a machine: GPUs by count and VRAM as their sum, since a deal's
 * VRAM is counted against the whole like its memory (which GPU a container gets is Docker's pick).
 */
export function machineResources(m: Machine): Resources {
  return { cpu: m.cpu, memoryMb: m.memoryMb, gpu: m.gpus.length, vramMb: m.gpus.reduce((sum, g) => sum + g.memoryMb, 0) };
}

/**
 * What to advertise: `asked` where it offers less than `detected`, `detected` elsewhere. A
 * dimension asked above what was detected is held to it and named in `capped`.
 */
export function offeredResources(detected: Resources, asked: Partial<Resources>): { resources: Resources; capped: (keyof Resources)[] } {
  const resources = { ...detected };
  const capped: (keyof Resources)[] = [];
  for (const k of RESOURCE_KEYS) {
    const a = asked[k];
    if (a === undefined) continue;
    if (a > detected[k]) capped.push(k);
    else resources[k] = a;
  }
  return { resources, capped };
}
