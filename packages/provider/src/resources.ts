// What this machine can offer, detected from the OS; flags may offer less.
import os from "node:os";

export function detectResources(): { cpu: number; memoryMb: number; gpu: number; vramMb: number } {
  // No GPU detection yet: the WASM executor is CPU-only. A GPU executor would report devices here.
  return { cpu: os.availableParallelism(), memoryMb: Math.floor(os.totalmem() / 1024 / 1024), gpu: 0, vramMb: 0 };
}
