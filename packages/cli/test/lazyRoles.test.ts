// What an idle role and `lily run` load at start, as a structural guard for their memory and
// start-up time (issue 10's targets: each idle role small, `lily run` close to the SDK's own
// time). `lily <command> --help` loads the command's module and everything it imports statically,
// which is what the role carries from its first second; features a role only uses on demand
// (llama.cpp for a model, siwe and ethers for a wallet sign-in) must be imported when first used.
// The module graph is read from the sources (LILY_FROM_SOURCE=1); the bundle keeps those packages
// outside it, so the on-demand check runs against the bundle too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { modulesLoadedBy } from "./lilyProcess.ts";

/** The modules `lily <args>` loads, checked to be the command's own graph when read from the sources. */
function loadedBy(args: string[], from: "sources" | "bundle" = "sources"): string[] {
  const loaded = modulesLoadedBy(args, from);
  // The hook saw the command's own module graph (every one of these imports the protocol).
  if (from === "sources")
    assert.ok(
      loaded.some((l) => l.includes("/packages/protocol/")),
      `the hook saw ${args.join(" ")} load its modules`,
    );
  return loaded;
}

// node-llama-cpp: ~400 modules with its downloader (ipull, fs-extra, ...), some 45 MiB; siwe pulls
// ethers in (~160 modules). Neither is needed until a model is served or a wallet signs in.
const ON_DEMAND = ["/node_modules/node-llama-cpp/", "/node_modules/ipull/", "/node_modules/siwe/", "/node_modules/ethers/"];

for (const from of ["sources", "bundle"] as const)
  for (const command of ["store", "solver", "provider", "mediator", "gateway", "run"]) {
    test(`\`lily ${command}\` (${from}) loads neither llama.cpp nor siwe/ethers before it needs them`, () => {
      const loaded = loadedBy([command, "--help"], from);
      for (const heavy of ON_DEMAND)
        assert.deepEqual(
          loaded.filter((l) => l.includes(heavy)),
          [],
          `${heavy} is not loaded by \`lily ${command}\` at start`,
        );
    });
  }

test("the store role does not load the chain client, the SDK or an executor", () => {
  const loaded = loadedBy(["store", "--help"]);
  for (const heavy of ["/packages/chain/", "/packages/sdk/", "/packages/executor/", "/packages/solver/"])
    assert.deepEqual(
      loaded.filter((l) => l.includes(heavy)),
      [],
      `${heavy} is not loaded by \`lily store\``,
    );
});
