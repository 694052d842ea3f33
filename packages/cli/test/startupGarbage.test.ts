// The one collection an idle role runs after start-up (src/startupGarbage.ts): it really collects,
// it leaves no `gc` behind for other code to see, and its timer never keeps a process alive.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runInNewContext } from "node:vm";
import { dropStartupGarbage } from "../src/startupGarbage.ts";

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("the scheduled collection frees what nothing references any more", async () => {
  let ref: WeakRef<object> | undefined;
  (() => {
    ref = new WeakRef({ garbage: new Array(1000).fill("start-up") });
  })();
  await tick(0); // a WeakRef's target is kept until the job that created it has ended
  assert.notEqual(ref!.deref(), undefined, "nothing collected it on its own yet");
  dropStartupGarbage(0);
  await tick(50);
  assert.equal(ref!.deref(), undefined);
});

test("no gc() is left for other code: neither on this global nor in a new context", async () => {
  dropStartupGarbage(0);
  await tick(20);
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, "undefined");
  assert.equal(runInNewContext("typeof gc"), "undefined");
});

test("a process with nothing else to do exits at once, without waiting for the collection", () => {
  const module = fileURLToPath(new URL("../src/startupGarbage.ts", import.meta.url));
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", `(await import(${JSON.stringify(module)})).dropStartupGarbage(60_000);`], {
    encoding: "utf8",
    timeout: 30_000,
  });
  // Held by the 60 s timer, it would be killed at 30 s (status null, error ETIMEDOUT).
  assert.equal(r.error, undefined);
  assert.equal(r.status, 0, r.stderr);
});
