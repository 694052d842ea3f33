// The baseline for end-to-end latency: the same module on the same input, run directly in the
// provider's WASM executor (no store, solver or chain): what the sandbox alone costs.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INPUTS_FILE } from "@lily/protocol";
import { loadCatalog } from "@lily/modules";

/** The part of the executor contract the baseline uses. */
interface WasmExecutor {
  start(spec: {
    wasm: Uint8Array;
    inputsDir: string;
    outputsDir: string;
    env: Record<string, string>;
    args: string[];
    memoryMb: number;
    timeoutMs: number;
  }): Promise<unknown>;
  wait(handle: unknown): Promise<{ exitCode: number; error?: string }>;
}

/**
 * The provider's own WASM executor: from @lily/executor where it lives as a package of its own,
 * else from inside the provider package (its earlier home). Specifiers are variables so the
 * typecheck does not depend on which layout this checkout has.
 */
async function loadWasmExecutor(): Promise<WasmExecutor> {
  const homes = ["@lily/executor", new URL("../packages/provider/src/executor/wasmExecutor.ts", import.meta.url).href];
  for (const home of homes) {
    try {
      const mod = (await import(home)) as { createWasmExecutor?: () => WasmExecutor };
      if (mod.createWasmExecutor) return mod.createWasmExecutor();
    } catch (e) {
      if ((e as { code?: string }).code !== "ERR_MODULE_NOT_FOUND") throw e;
    }
  }
  throw new Error(`no WASM executor found (looked in ${homes.join(", ")})`);
}

export interface SandboxRunner {
  /** Run the module once; returns wall-clock ms from `start` to exit and its stdout. */
  run(): Promise<{ ms: number; stdout: string }>;
  close(): void;
}

export async function sandboxRunner(ref: string, inputs: Record<string, string>): Promise<SandboxRunner> {
  const entry = loadCatalog().find((c) => c.ref === ref);
  if (!entry) throw new Error(`module ${ref} is not built (npm run build)`);
  const { manifest, wasmBytes } = entry;
  const executor = await loadWasmExecutor();
  const root = mkdtempSync(join(tmpdir(), "lily-bench-sandbox-"));
  const env = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]));
  let n = 0;
  return {
    async run() {
      // Laid out as the provider's runJob does; only start-to-exit is timed.
      const dir = join(root, String(n++));
      const inputsDir = join(dir, "inputs");
      const outputsDir = join(dir, "outputs");
      mkdirSync(inputsDir, { recursive: true });
      mkdirSync(outputsDir, { recursive: true });
      writeFileSync(join(inputsDir, INPUTS_FILE), JSON.stringify(inputs));
      const t0 = performance.now();
      const handle = await executor.start({
        wasm: wasmBytes,
        inputsDir,
        outputsDir,
        env,
        args: [manifest.name],
        memoryMb: manifest.resources.memoryMb,
        timeoutMs: manifest.resources.timeoutSeconds * 1000,
      });
      const exit = await executor.wait(handle);
      const ms = performance.now() - t0;
      if (exit.exitCode !== 0) throw new Error(`${ref} exited ${exit.exitCode} in the sandbox: ${exit.error ?? ""}`);
      const stdout = readFileSync(join(outputsDir, "stdout"), "utf8");
      rmSync(dir, { recursive: true, force: true });
      return { ms, stdout };
    },
    close: () => rmSync(root, { recursive: true, force: true }),
  };
}
