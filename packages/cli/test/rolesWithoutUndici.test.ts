// No role loads undici (Node's fetch) at start, as a structural guard for idle memory (issue 10:
// each idle role under 80 MiB). An `import http from "node:http"` (or a named import) anywhere in a
// role's graph builds node:http's ES module facade, which reads its lazy WebSocket exports and so
// loads undici: ~745 KB of source and its compiled code, 1-3 MiB of a role's idle RSS. The roles
// reach node:http through process.getBuiltinModule instead (see packages/store/src/server.ts, whose
// own leanStart test checks a started store). `lily <role> --help` loads the role's whole static
// graph; what a role fetches on demand (a gateway's audits, a model server) may still load it then.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { LILY } from "./lilyProcess.ts";

const PROBE =
  'data:text/javascript,process.on("exit",()=>process.stderr.write("LOADED "+JSON.stringify(process.moduleLoadList.filter((m)=>m.includes("undici")))+"\\n"))';

for (const from of ["sources", "bundle"] as const)
  for (const role of ["store", "solver", "provider", "mediator", "gateway"])
    test(`\`lily ${role}\` (${from}) does not load undici at start`, () => {
      const r = spawnSync(process.execPath, ["--import", PROBE, LILY, role, "--help"], {
        encoding: "utf8",
        env: { ...process.env, LILY_FROM_SOURCE: from === "sources" ? "1" : "" },
      });
      assert.equal(r.status, 0, r.stderr);
      const line = r.stderr.split("\n").find((l) => l.startsWith("LOADED "));
      assert.ok(line, `the probe reported: ${r.stderr}`);
      assert.deepEqual(JSON.parse(line.slice("LOADED ".length)), [], `undici is not loaded by \`lily ${role}\``);
    });
