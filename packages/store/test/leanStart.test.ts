// What a started store carries, as a structural guard for its idle memory (issue 10: each idle
// role under 80 MiB). The store never fetches, so it must not load undici (Node's fetch): an
// `import http from "node:http"` anywhere in its graph builds node:http's ES module facade, which
// reads the lazy WebSocket exports and so loads undici (with worker_threads: ~2 MiB more resident in
// the store, ~13 MiB in a bare process). Checked in a fresh process, since this one's test runner
// may have loaded them itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "../../../test/support/tempDir.ts";

const STORE = fileURLToPath(new URL("../src/index.ts", import.meta.url));

/** Builtin modules a new process has loaded after starting a store, serving one request, and closing it. */
function builtinsAfterStoreStart(): string[] {
  const dataDir = join(tempDir("lily-store-lean-"), "blocks");
  const script = `
    const { startStore, defaultStoreOptions } = await import(${JSON.stringify(STORE)});
    const logger = { debug() {}, info() {}, warn() {}, error() {}, child() { return logger; } };
    const s = await startStore({ ...defaultStoreOptions, dataDir: ${JSON.stringify(dataDir)}, port: 0 }, { logger });
    const http = process.getBuiltinModule("node:http");
    const status = await new Promise((resolve, reject) =>
      http.get(s.url + "/v1/health", (res) => { res.resume(); res.on("end", () => resolve(res.statusCode)); }).on("error", reject));
    await s.close();
    process.stdout.write(JSON.stringify({ status, loaded: process.moduleLoadList }));
  `;
  const res = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(res.status, 0, res.stderr);
  const { status, loaded } = JSON.parse(res.stdout) as { status: number; loaded: string[] };
  assert.equal(status, 200, "the store answered its health route");
  return loaded;
}

test("a started store does not load undici (node:http is not imported as an ES module)", () => {
  const loaded = builtinsAfterStoreStart();
  assert.ok(
    loaded.some((m) => m === "NativeModule http"),
    "the probe saw the store's own modules load",
  );
  assert.ok(!loaded.includes("NativeModule internal/deps/undici/undici"), "undici is not loaded by a store that never fetches");
});
