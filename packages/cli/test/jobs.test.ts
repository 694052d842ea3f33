// `lily jobs` and `lily jobs show` read the job creator's journal; neither needs the network for a
// job that never got a deal, so network.json here points at ports nothing listens on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sqliteJournal } from "@lily/sdk";
import { jobEntry } from "./jobEntry.ts";
import { lily, tempHome } from "./lilyProcess.ts";

const reason = "no provider matched the job (0x9C1…: price above max)";

function homeWithJobs(...entries: ReturnType<typeof jobEntry>[]): string {
  const home = tempHome();
  writeFileSync(
    join(home, "network.json"),
    JSON.stringify({
      rpcUrl: "http://127.0.0.1:9",
      chainId: 31337,
      token: `0x${"22".repeat(20)}`,
      deals: `0x${"33".repeat(20)}`,
      registry: `0x${"44".repeat(20)}`,
      leases: `0x${"55".repeat(20)}`,
      deployBlock: 0,
      solverUrl: "http://127.0.0.1:9",
      storeUrl: "http://127.0.0.1:9",
      modules: {},
    }),
  );
  mkdirSync(join(home, "data", "job-creator"), { recursive: true });
  const journal = sqliteJournal(join(home, "data", "job-creator", "jobs.db"));
  for (const e of entries) journal.put(e);
  journal.close();
  return home;
}

test("lily jobs lists a job that ended without a match as no match, with the reason", () => {
  const home = homeWithJobs(jobEntry("a1", Date.UTC(2025, 0, 1), { stage: "no-match", error: reason }));
  const r = lily(home, "jobs");
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^0x0000000000 {2}no match {2,}cowsay@1\.0\.0 {2}2025-01-01T00:00:00\.000Z {2}no provider matched the job \(0x9C1…: price above max\)$/m,
  );
});

test("lily jobs lists a job still waiting for a match as submitted", () => {
  const home = homeWithJobs(jobEntry("a2", Date.UTC(2025, 0, 1)));
  const r = lily(home, "jobs");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^0x0000000000 {2}submitted {2}cowsay@1\.0\.0 {2}2025-01-01T00:00:00\.000Z$/m);
});

test("lily jobs show gives the stage of a job that ended without a match, and why", () => {
  const home = homeWithJobs(jobEntry("b1", Date.UTC(2025, 0, 1), { stage: "no-match", error: reason }));
  const r = lily(home, "jobs", "show", `0x${"0".repeat(62)}b1`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^stage {6}no match: no provider matched the job \(0x9C1…: price above max\)$/m);
});

test("lily jobs --json keeps the stage as the journal has it", () => {
  const home = homeWithJobs(jobEntry("c1", Date.UTC(2025, 0, 1), { stage: "no-match", error: reason }));
  const r = lily(home, "jobs", "--json");
  assert.equal(r.code, 0, r.stderr);
  const [job] = JSON.parse(r.stdout) as { stage: string; error: string }[];
  assert.deepEqual({ stage: job!.stage, error: job!.error }, { stage: "no-match", error: reason });
});

test("lily jobs show says how many signed deals lapsed unopened, and that nothing was locked for them", () => {
  const home = homeWithJobs(jobEntry("d1", Date.UTC(2025, 0, 1), { lapsed: [`0x${"ab".repeat(32)}`, `0x${"cd".repeat(32)}`] }));
  const r = lily(home, "jobs", "show", `0x${"0".repeat(62)}d1`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^lapsed {5}2 signed deal\(s\) never opened by their openBy; nothing was locked for them$/m);
});
