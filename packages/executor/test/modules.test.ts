// The built modules, run in the WASM sandbox the way a provider runs them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cidForBytes, cidForRecord, isLilyError, verifyCid } from "@lily/protocol";
import { DIST_DIR, loadCatalog } from "@lily/modules";
import { compileAssemblyScript } from "@lily/modules/compile";
import { createWasmExecutor } from "../src/wasmExecutor.ts";
import { runTask, type TaskOptions } from "./fixtures/runTask.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const catalog = loadCatalog();
const executor = createWasmExecutor();

function run(ref: string, opts: TaskOptions) {
  const m = catalog.find((c) => c.ref === ref)!;
  return runTask(executor, m.wasmBytes, { args: [m.manifest.name], memoryMb: m.manifest.resources.memoryMb, ...opts });
}

test("cowsay puts the message in a speech bubble above the cow", async (t) => {
  const { exit, stdout } = await run("cowsay@1.0.0", { env: { INPUT_MESSAGE: "Hello, Lily" } });
  t.diagnostic(`ran in ${exit.durationMs} ms`);
  assert.equal(exit.exitCode, 0);
  assert.equal(
    stdout,
    String.raw` _____________
< Hello, Lily >
 -------------
        \   ^__^
         \  (oo)\_______
            (__)\       )\/\
                ||----w |
                ||     ||
`,
  );
});

test("cowsay wraps a long message at 40 columns and keeps its line breaks", async () => {
  const message = "Verification is a programmable layer, chosen per job, separate from execution.\nMoo.";
  const { stdout } = await run("cowsay@1.0.0", { env: { INPUT_MESSAGE: message } });
  const bubble = stdout.split("\n").slice(0, 6).join("\n");
  assert.equal(
    bubble,
    String.raw` __________________________________________
/ Verification is a programmable layer,    \
| chosen per job, separate from execution. |
\ Moo.                                     /
 ------------------------------------------
        \   ^__^`,
  );
});

test("wordcount counts lines, words and bytes and ranks the most frequent words", async (t) => {
  const text = "The cat sat on the mat.\nThe dog sat on the log!\n";
  const { exit, stdout, outputs } = await run("wordcount@1.0.0", { files: { file: text }, env: { INPUT_TOP: "3" } });
  t.diagnostic(`ran in ${exit.durationMs} ms`);
  assert.equal(exit.exitCode, 0);
  assert.deepEqual(JSON.parse(outputs["wordcount.json"]!), {
    lines: 2,
    words: 12,
    bytes: 48,
    top: [
      ["the", 4],
      ["on", 2],
      ["sat", 2],
    ],
  });
  assert.equal(stdout, "2 lines, 12 words, 48 bytes, 7 distinct words\n");
});

test("wordcount lower-cases letters beyond ASCII, splits on punctuation and lists 10 words by default", async () => {
  const text = "Été, été — ÉTÉ! 42 x1 x2 x3 x4 x5 x6 x7 x8 x9";
  const { outputs } = await run("wordcount@1.0.0", { files: { file: text } });
  const result = JSON.parse(outputs["wordcount.json"]!);
  assert.deepEqual(result.top.slice(0, 2), [
    ["été", 3],
    ["42", 1],
  ]);
  assert.equal(result.top.length, 10);
  assert.deepEqual([result.lines, result.words, result.bytes], [0, 13, Buffer.byteLength(text)]);
});

test("wordcount without its file fails, saying which file", async () => {
  const { exit, stderr } = await run("wordcount@1.0.0", {});
  assert.equal(exit.exitCode, 1);
  assert.match(stderr, /cannot open \/inputs\/file/);
});

for (const [n, count, largest] of [
  [100, 25, 97],
  [1_000_000, 78498, 999983],
] as const) {
  test(`primes counts ${count} primes up to ${n}`, async (t) => {
    const { exit, stdout, outputs } = await run("primes@1.0.0", { env: { INPUT_N: String(n) } });
    t.diagnostic(`ran in ${exit.durationMs} ms`);
    assert.equal(stdout, `${count} primes up to ${n}\n`);
    assert.deepEqual(JSON.parse(outputs["primes.json"]!), { n, count, largest });
  });
}

test("primes refuses an n out of range, naming the input", async () => {
  const { exit, stderr } = await run("primes@1.0.0", { env: { INPUT_N: "0" } });
  assert.equal(exit.exitCode, 2);
  assert.match(stderr, /^inputs\.n: expected an integer from 1 to 2000000000/);
});

for (const m of catalog) {
  test(`${m.ref}: the catalogue's CIDs are those of its bytes, and the binary is what its sources compile to`, async () => {
    assert.ok(verifyCid(m.wasmCid, m.wasmBytes));
    assert.equal(cidForRecord(m.manifest).cid, m.manifestCid);
    const rebuilt = await compileAssemblyScript(join(m.manifest.name, "assembly/index.ts"), join(DIST_DIR, ".."));
    assert.equal(cidForBytes(rebuilt), m.wasmCid);
  });
}

test("without a build, the catalogue says to run the build", () => {
  assert.throws(
    () => loadCatalog(join(tmpdir(), "lily-no-such-dist")),
    (e) => isLilyError(e, "CONFIG") && e.hint === "run npm run build",
  );
});

test("a binary changed after the build is refused", () => {
  const dist = tempDir("lily-dist-");
  // Only the WASM catalogue: container images (and their build trees) are not what this test tampers with.
  cpSync(DIST_DIR, dist, { recursive: true, filter: (src) => !src.startsWith(join(DIST_DIR, "images")) });
  writeFileSync(join(dist, "primes@1.0.0", "module.wasm"), Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0));
  assert.throws(
    () => loadCatalog(dist),
    (e) => isLilyError(e, "CID_MISMATCH") && e.field === "modules/dist/primes@1.0.0/module.wasm",
  );
  rmSync(dist, { recursive: true });
});
