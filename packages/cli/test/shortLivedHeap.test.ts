// The young generation of a short-lived command (src/shortLivedHeap.ts): holding on to what it
// allocates, as a command loading its modules does, costs fewer scavenges once it grows at once;
// and only commands that exit when done get it, never a role or the devnet.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { shortLivedCommand } from "../src/commands/index.ts";

const HEAP = new URL("../src/shortLivedHeap.ts", import.meta.url).href;

/** Scavenges seen by a fresh process that keeps ~30 MB of small objects alive, with or without the growth. */
function scavenges(grow: boolean): number {
  const script = `
    import { PerformanceObserver, constants } from "node:perf_hooks";
    import { growYoungGenerationAtOnce } from ${JSON.stringify(HEAP)};
    if (${grow}) growYoungGenerationAtOnce();
    let minor = 0;
    const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++; });
    obs.observe({ entryTypes: ["gc"] });
    const kept = [];
    for (let i = 0; i < 300000; i++) kept.push({ i, s: "s" + i, a: [i] });
    setTimeout(() => { obs.disconnect(); process.stdout.write(String(minor)); }, 50);`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout);
}

test("growing the young generation at once leaves fewer scavenges for what a command keeps", () => {
  const by = { default: scavenges(false), grown: scavenges(true) };
  assert.ok(by.default >= 6, `V8's doubling scavenges many times on the way (${by.default})`);
  assert.ok(by.grown <= by.default / 2, `at most half as many once grown at once: ${JSON.stringify(by)}`);
});

test("only commands that exit when done count as short-lived", () => {
  for (const args of [["run", "cowsay@1.0.0"], ["--home", "/tmp/x", "jobs"], ["balance"], ["challenge", "0x12"], ["module", "build"], ["keys", "list"]])
    assert.equal(shortLivedCommand(args), true, args.join(" "));
  for (const args of [["devnet"], ["solver"], ["provider"], ["store"], ["mediator"], ["gateway"], ["model", "serve"], ["false-challenger"]])
    assert.equal(shortLivedCommand(args), false, args.join(" "));
  // No command, or one that does not exist: help or commander's error, nothing to size for.
  assert.equal(shortLivedCommand(["--help"]), false);
  assert.equal(shortLivedCommand(["nonsense"]), false);
});
