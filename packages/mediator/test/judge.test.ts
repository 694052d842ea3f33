import { test } from "node:test";
import assert from "node:assert/strict";
import { Comparator } from "@lily/protocol";
import { KILLED_EXIT_CODE } from "@lily/executor";
import { comparatorFor, type ComparatorConfig } from "@lily/verification";
import { judge, ruleOn, type Candidate, type RunOutcome } from "../src/judge.ts";

const enc = new TextEncoder();
const files = (entries: Record<string, string>) => new Map(Object.entries(entries).map(([k, v]) => [k, enc.encode(v)]));
const ran = (exitCode: number, f: Record<string, string>, limit?: RunOutcome["limit"]): RunOutcome => ({ exitCode, files: files(f), ...(limit && { limit }) });
const committed = (exitCode: number, f: Record<string, string>): Candidate => ({ kind: "result", exitCode, files: files(f) });

const exact: ComparatorConfig = { kind: "exact" };
const tolerance: ComparatorConfig = { kind: "tolerance", epsilon: 0.001, files: ["scores.json"] };

const cases: { name: string; reference: RunOutcome; candidate: Candidate; config?: ComparatorConfig; correct: boolean; detail: RegExp }[] = [
  {
    name: "the same output as the re-run",
    reference: ran(0, { stdout: "< hello >", stderr: "" }),
    candidate: committed(0, { stdout: "< hello >", stderr: "" }),
    correct: true,
    detail: /exact: 1 file\(s\) identical/,
  },
  {
    name: "a different output",
    reference: ran(0, { stdout: "< hello >" }),
    candidate: committed(0, { stdout: "< goodbye >" }),
    correct: false,
    detail: /stdout: bytes differ/,
  },
  {
    name: "a different exit code with the same output",
    reference: ran(1, { stdout: "" }),
    candidate: committed(0, { stdout: "" }),
    correct: false,
    detail: /exit code 0, the re-run exited 1/,
  },
  {
    name: "the same failure as the re-run",
    reference: ran(2, { stdout: "", stderr: "bad input" }),
    candidate: committed(2, { stdout: "", stderr: "bad input (at 0x1f)" }),
    correct: true,
    detail: /identical/,
  },
  {
    name: "a result it cannot show",
    reference: ran(0, { stdout: "x" }),
    candidate: { kind: "invalid", reason: "result bagu... is not retrievable" },
    correct: false,
    detail: /not retrievable/,
  },
  {
    name: "a finished result for a job the re-run could not finish in several times the time",
    reference: ran(KILLED_EXIT_CODE, { stdout: "partial" }, "timeout"),
    candidate: committed(0, { stdout: "done" }),
    correct: false,
    detail: /did not finish in time, yet the provider reported exit code 0/,
  },
  {
    name: "a timeout, like the re-run's (partial outputs are not judged)",
    reference: ran(KILLED_EXIT_CODE, { stdout: "part" }, "timeout"),
    candidate: committed(KILLED_EXIT_CODE, { stdout: "partial" }),
    correct: true,
    detail: /both runs hit the time limit/,
  },
  {
    name: "numbers within the module's tolerance",
    reference: ran(0, { stdout: "", "scores.json": "[0.1234, 2]" }),
    candidate: committed(0, { stdout: "", "scores.json": "[0.1239, 2]" }),
    config: tolerance,
    correct: true,
    detail: /^tolerance: /,
  },
  {
    name: "numbers outside the module's tolerance",
    reference: ran(0, { "scores.json": "[0.1234, 2]" }),
    candidate: committed(0, { "scores.json": "[0.1254, 2]" }),
    config: tolerance,
    correct: false,
    detail: /exceeds epsilon 0\.001/,
  },
];

for (const c of cases) {
  test(`a provider that committed ${c.name} is ruled ${c.correct ? "correct" : "wrong"}`, () => {
    const v = judge(c.reference, c.candidate, comparatorFor(c.config ?? exact));
    assert.equal(v.providerCorrect, c.correct, v.detail);
    assert.match(v.detail, c.detail);
  });
}

test("a replica group is ruled replica by replica against one re-run, recording the comparator", () => {
  const reference = ran(0, { stdout: "42" });
  const ruling = ruleOn(reference, [committed(0, { stdout: "42" }), committed(0, { stdout: "41" }), { kind: "invalid", reason: "no result committed" }], comparatorFor(exact));
  assert.deepEqual(ruling.correct, [true, false, false]);
  assert.equal(ruling.comparator, Comparator.exact);
  assert.equal(ruling.details.length, 3);
  assert.match(ruling.details[2]!, /no result committed/);
});
