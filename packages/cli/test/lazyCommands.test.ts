// The lazy command table (src/commands/index.ts) against the commands themselves: loading every
// module registers exactly the names the table lists, with the usage terms and descriptions the
// top-level help prints from the table; and the command a command line asks for is found past
// the global options, so only its module is loaded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Command } from "commander";
import { COMMANDS, registerCommands, requestedCommand } from "../src/commands/index.ts";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { LILY, modulesLoadedBy } from "./lilyProcess.ts";
// @ts-expect-error: plain JS without types, shared with bin/lily.js
import { currentBundle } from "../bin/currentBundle.js";

/** The plain-JS shim in bin/ that `lily` loads before the bundle or the sources. */
const SHIM = ["lily.js", "roleProcess.js", "staticHelp.js", "currentBundle.js"];

test("every command module registers what the table says, as help shows it", async () => {
  const help = new Command().createHelp();
  for (const entry of COMMANDS) {
    const program = new Command("lily");
    (await entry.load())(program);
    const registered = program.commands.map((c) => ({ name: c.name(), term: help.subcommandTerm(c), description: c.description() }));
    assert.deepEqual(registered, entry.commands, `the table's entry for ${entry.commands.map((c) => c.name).join(", ")}`);
  }
});

test("help with no command named lists every command from the table without loading one", async () => {
  const program = new Command("lily").exitOverride();
  await registerCommands(program, ["--help"]);
  const listed = program.createHelp().formatHelp(program, program.createHelp());
  for (const { commands } of COMMANDS) for (const c of commands) assert.ok(listed.includes(c.term), `help lists ${c.term}`);
  // Stubs only: none has an action or options of its own.
  assert.ok(program.commands.every((c) => c.options.length === 0 && c.commands.length === 0));
});

test("the command asked for is found past --home and in `help <command>`", () => {
  assert.equal(requestedCommand(["run", "cowsay@1.0.0"]), "run");
  assert.equal(requestedCommand(["--home", "/tmp/x", "run", "--json"]), "run");
  assert.equal(requestedCommand(["--home=/tmp/x", "deposit", "5"]), "deposit");
  assert.equal(requestedCommand(["help", "provider"]), "provider");
  assert.equal(requestedCommand(["--help"]), undefined);
  assert.equal(requestedCommand([]), undefined);
});

test("`lily --help` does not load the protocol, viem or any role", () => {
  // The loader hook lists every module resolved; none of Lily's heavy packages may be among them.
  const loaded = modulesLoadedBy(["--help"], "sources");
  assert.ok(
    loaded.some((l) => l.includes("commander")),
    "the hook saw the modules loaded",
  );
  for (const heavy of ["/viem/", "/zod/", "better-sqlite3", "/packages/chain/", "/packages/sdk/", "/packages/protocol/src/index.ts"])
    assert.deepEqual(
      loaded.filter((l) => l.includes(heavy)),
      [],
      `${heavy} is not loaded for --help`,
    );
});

test("`lily --help` from the bundle prints what commander renders from the sources, and loads none of the bundle", (t) => {
  const entry = currentBundle();
  if (!entry) return t.skip("the bundle is older than its sources (npm run build:cli rebuilds it)");
  const fromSources = spawnSync(process.execPath, [LILY, "--help"], { encoding: "utf8", env: { ...process.env, LILY_FROM_SOURCE: "1" } });
  const fromBundle = spawnSync(process.execPath, [LILY, "--help"], { encoding: "utf8", env: { ...process.env, LILY_FROM_SOURCE: "" } });
  assert.equal(fromBundle.status, 0, fromBundle.stderr);
  assert.ok(fromSources.stdout.startsWith("Usage: lily [options] [command]"), fromSources.stdout);
  assert.equal(fromBundle.stdout, fromSources.stdout);
  const urls = modulesLoadedBy(["--help"], "bundle").filter((u) => !u.startsWith("node:"));
  assert.deepEqual(
    urls.map((u) => u.slice(u.lastIndexOf("/bin/") + "/bin/".length)),
    SHIM,
  );
});

test("help commander renders from the bundle (bare `lily`) loads only bundle files, and none of them holds the protocol, viem or a role", (t) => {
  // npm test builds the bundle first; after an edit it is stale and lily runs the sources (above).
  const entry = currentBundle();
  if (!entry) return t.skip("the bundle is older than its sources (npm run build:cli rebuilds it)");
  const dist = new URL(".", entry).href;
  const loaded = modulesLoadedBy([], "bundle", 2);
  // commander's child_process (for executable subcommands) loads at its first use, and node:v8 only
  // in a short-lived command (scripts/bundle.ts, shortLivedHeap.ts): each loaded Node's streams.
  assert.deepEqual(
    loaded.filter((u) => u === "node:child_process" || u === "node:v8"),
    [],
  );
  const urls = loaded.filter((u) => !u.startsWith("node:"));
  const outside = urls.filter((u) => !u.startsWith(dist) && !SHIM.some((file) => u.endsWith(`/bin/${file}`)));
  assert.deepEqual(outside, [], "nothing outside the bundle is loaded");
  const chunks = JSON.parse(readFileSync(new URL("chunks.json", dist), "utf8")) as Record<string, string[]>;
  const held = urls.filter((u) => u.startsWith(dist)).flatMap((u) => chunks[u.slice(dist.length)] ?? assert.fail(`${u} is not in chunks.json`));
  assert.ok(
    held.some((i) => i.includes("commander")),
    "the loaded chunks hold commander",
  );
  for (const heavy of ["/viem/", "/zod/", "packages/chain/", "packages/sdk/", "packages/protocol/src/index.ts"])
    assert.deepEqual(
      held.filter((i) => i.includes(heavy)),
      [],
      `${heavy} is not in what --help loads`,
    );
  // The build's text of this help is checked against the sources it names (bin/staticHelp.js):
  // every workspace source this rendering ran must be among them.
  const help = JSON.parse(readFileSync(new URL("help.json", dist), "utf8")) as { inputs: Record<string, number> };
  const repo = new URL("../../../", dist);
  const named = new Set(Object.keys(help.inputs).map((p) => new URL(p, dist).href.slice(repo.href.length)));
  assert.deepEqual(
    held.filter((i) => i.startsWith("packages/") && !named.has(i)),
    [],
  );
});

test("`lily run` from the bundle loads the contracts' ABIs and zod, but neither the creation bytecode nor zod's translations", (t) => {
  const entry = currentBundle();
  if (!entry) return t.skip("the bundle is older than its sources (npm run build:cli rebuilds it)");
  const dist = new URL(".", entry).href;
  const chunks = JSON.parse(readFileSync(new URL("chunks.json", dist), "utf8")) as Record<string, string[]>;
  const loaded = modulesLoadedBy(["run", "--help"], "bundle").filter((u) => u.startsWith(dist));
  // Its own bundle (src/runMain.ts), one file: none of the chunks other commands share.
  assert.deepEqual(
    loaded.map((u) => u.slice(dist.length)),
    ["run.js"],
  );
  const held = loaded.flatMap((u) => chunks[u.slice(dist.length)] ?? assert.fail(`${u} is not in chunks.json`));
  // Only run's code: none of another command, nor the server side of the API.
  for (const other of [
    "packages/cli/src/commands/devnet.ts",
    "packages/provider/",
    "packages/solver/",
    "packages/gateway/",
    "packages/api/src/server.ts",
    "packages/api/src/openai/",
  ])
    assert.deepEqual(
      held.filter((i) => i.startsWith(other)),
      [],
      `${other} is not in the run bundle`,
    );
  assert.ok(held.includes("packages/chain/src/generated/artifacts.ts"), "run loads the ABIs");
  assert.ok(held.includes("node_modules/zod/v4/locales/en.js"), "run loads zod with its English messages");
  // Only a deployment needs the bytecode: it is in the bundle, in a chunk of its own.
  assert.ok(
    Object.values(chunks).some((inputs) => inputs.includes("packages/chain/src/generated/bytecode.ts")),
    "the bundle holds the bytecode",
  );
  assert.deepEqual(
    held.filter((i) => i.endsWith("generated/bytecode.ts")),
    [],
    "run does not load the bytecode",
  );
  // `import { z } from "zod"` made the whole `z` namespace a value, with all 64 locales in it.
  assert.deepEqual(
    held.filter((i) => i.includes("zod/v4/locales/") && !i.endsWith("/en.js")),
    [],
    "run loads no other locale",
  );
});
