// What `lily run` does at start-up and at the end so that it adds little to the job itself:
// the bundle leaves out the WebSocket library and the Node built-ins only TLS or compression need, zod runs
// without its JIT in a short-lived command (the same answers), and `run` exits once it is done.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { exitsWhenDone, signsEarly } from "../src/commands/index.ts";
import { signingKeyPath } from "../src/earlyKey.ts";
import { LILY } from "./lilyProcess.ts";
// @ts-expect-error: plain JS without types, shared with bin/lily.js
import { currentBundle } from "../bin/currentBundle.js";

/** The built-ins a `lily` process loaded, from Node's own list, written when it exits. */
function builtinsLoadedBy(args: string[]): string[] {
  const dump = "process.on('exit', () => process.stderr.write('\\nLOADED ' + JSON.stringify(process.moduleLoadList) + '\\n'))";
  const r = spawnSync(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(dump)}`, LILY, ...args], {
    encoding: "utf8",
    env: { ...process.env, LILY_FROM_SOURCE: "" },
  });
  assert.equal(r.status, 0, r.stderr);
  const line = r.stderr.split("\n").find((l) => l.startsWith("LOADED "));
  return (JSON.parse(line!.slice("LOADED ".length)) as string[]).filter((m) => m.startsWith("NativeModule ")).map((m) => m.slice("NativeModule ".length));
}

test("`lily run` from the bundle loads no WebSocket library (its events are server-sent), nor tls, https or zlib", (t) => {
  // npm test builds the bundle first; after an edit it is stale and lily runs the sources.
  if (!currentBundle()) return t.skip("the bundle is older than its sources (npm run build:cli rebuilds it)");
  const loaded = builtinsLoadedBy(["run", "--help"]);
  // Not even http: the clients load it at their first request (nodeFetch), which help never makes.
  for (const lazy of ["http", "tls", "https", "zlib"]) assert.ok(!loaded.includes(lazy), `${lazy} is not loaded`);
  // esbuild heads each bundled source with its path: none of ws's is in run's bundle.
  const bundle = readFileSync(new URL(currentBundle(undefined, "run")), "utf8");
  assert.ok(bundle.includes("// packages/api/src/events.ts"), "the event client is in the bundle");
  assert.ok(!bundle.includes("// node_modules/ws/"), "ws is in run's bundle");
});

test("only `lily run` exits as soon as its action returns; roles and help do not", () => {
  assert.equal(exitsWhenDone(["run", "cowsay@1.0.0"]), true);
  assert.equal(exitsWhenDone(["--home", "/tmp/x", "run", "--json"]), true);
  for (const args of [["solver"], ["devnet"], ["provider"], ["--help"], [], ["jobs"]]) assert.equal(exitsWhenDone(args), false, args.join(" "));
});

test("`lily run` starts deriving the key it will sign with before it loads, found from its words as written", () => {
  assert.equal(signsEarly(["--home", "/h", "run", "cowsay@1.0.0"]), true);
  for (const args of [["solver"], ["devnet"], ["--help"], [], ["jobs"], ["balance"], ["help", "run"], ["--home", "/h", "help", "run"]])
    assert.equal(signsEarly(args), false, args.join(" "));
  assert.equal(signingKeyPath(["--home", "/h", "run", "m"]), "/h/keys/job-creator.json");
  assert.equal(signingKeyPath(["--home=/h", "run", "m", "--as", "alice"]), "/h/keys/alice.json");
  assert.equal(signingKeyPath(["run", "m", "--home", "/h", "--as=bob", "-i", "x=1"]), "/h/keys/bob.json", "options after the command");
  assert.equal(
    signingKeyPath(["--home", "/h", "run", "m", "--key", "/k/mine.json", "--as", "alice"]),
    "/k/mine.json",
    "--key wins, as it does for the command",
  );
  // What the module is given after `--` is not the command's: `-i` values never name the key.
  assert.equal(signingKeyPath(["--home", "/h", "run", "m", "--", "--as", "eve"]), "/h/keys/job-creator.json");
  // Commands that sign nothing start nothing.
  for (const flag of ["--dry-run", "--quote", "--help", "-h"]) assert.equal(signingKeyPath(["--home", "/h", "run", "m", flag]), undefined, flag);
});

/** Every record below, parsed by the protocol's Deal schema, in a fresh process: the values and the issues. */
function parsedDeals(jitless: boolean): string {
  const protocol = new URL("../../protocol/src/index.ts", import.meta.url).href;
  const withoutJit = new URL("../src/zodWithoutJit.ts", import.meta.url).href;
  const script = `
    ${jitless ? `await import(${JSON.stringify(withoutJit)});` : ""}
    const { Deal } = await import(${JSON.stringify(protocol)});
    const deal = {
      jobCreator: "0x${"ab".repeat(20)}", provider: "0x${"cd".repeat(20)}", jobOffer: "0x${"11".repeat(32)}",
      resourceOffer: "0x${"22".repeat(32)}", price: "100", collateral: "50", openBy: "1899999000", deadline: "1900000000",
      policy: 0, policyParam: "0", mediationFee: "0", mediators: "0x${"00".repeat(32)}", replicas: "0x${"00".repeat(32)}",
      moduleCreator: "0x${"00".repeat(20)}", royaltyBps: 0,
    };
    const cases = [deal, { ...deal, provider: "0x12" }, { ...deal, price: "-1" }, { ...deal, extra: 1 }, (({ deadline, ...d }) => d)(deal), { ...deal, royaltyBps: "x", policy: 99 }, 7];
    const out = cases.map((c) => { const r = Deal.safeParse(c); return r.success ? { data: r.data } : { issues: r.error.issues }; });
    process.stdout.write(JSON.stringify(out, (_, v) => (typeof v === "bigint" ? v + "n" : v)));`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test("zod without its JIT parses the protocol's records to the same values and issues", () => {
  const withJit = parsedDeals(false);
  assert.ok(withJit.includes('"data"') && withJit.includes('"issues"'), "the cases hold valid and invalid records");
  assert.equal(parsedDeals(true), withJit);
});
