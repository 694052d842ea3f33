import { test } from "node:test";
import assert from "node:assert/strict";
import { Comparator } from "@lily/protocol";
import { JOB_REFUSED_EXIT_CODE, KILLED_EXIT_CODE, failureOutputs, type JobFailure } from "@lily/executor";
import { comparatorFor, type ComparatorConfig } from "@lily/verification";
import { judge, ruleOn, type Candidate, type Reference, type RunOutcome } from "../src/judge.ts";

const enc = new TextEncoder();
const files = (entries: Record<string, string>) => new Map(Object.entries(entries).map(([k, v]) => [k, enc.encode(v)]));
const ran = (exitCode: number, f: Record<string, string>, limit?: RunOutcome["limit"]): Reference => ({
  kind: "ran",
  outcome: { exitCode, files: files(f), ...(limit && { limit }) },
});
const committed = (exitCode: number, f: Record<string, string>): Candidate => ({ kind: "result", exitCode, files: files(f) });

const exact: ComparatorConfig = { kind: "exact" };
const tolerance: ComparatorConfig = { kind: "tolerance", epsilon: 0.001, files: ["scores.json"] };

const unavailable: JobFailure = {
  code: "INPUTS_UNAVAILABLE",
  field: "inputs",
  message: "inputs: the inputs record bagu... is not in any store this party can reach",
};
const invalid: JobFailure = { code: "INPUTS_INVALID", field: "inputs.count", message: "inputs.count: expected an integer" };
const refused = (failure: JobFailure): Reference => ({ kind: "refused", failure });
const committedFailure = (failure: JobFailure): Candidate => ({ kind: "result", exitCode: JOB_REFUSED_EXIT_CODE, files: failureOutputs(failure) });
const tamperedFailure = (failure: JobFailure): Candidate => ({
  kind: "result",
  exitCode: JOB_REFUSED_EXIT_CODE,
  files: new Map([...failureOutputs(failure)].map(([name, bytes]) => [name, new Uint8Array([...bytes, 0x20])])),
});

const cases: { name: string; reference: Reference; candidate: Candidate; config?: ComparatorConfig; correct: boolean; detail: RegExp }[] = [
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
  {
    name: "the failure for inputs no store holds, when the mediator cannot fetch them either",
    reference: refused(unavailable),
    candidate: committedFailure(unavailable),
    correct: true,
    detail: /the same failure: INPUTS_UNAVAILABLE at inputs/,
  },
  {
    name: "the failure for inputs the schema refuses, like the mediator's (whatever the module's comparator)",
    reference: refused(invalid),
    candidate: committedFailure(invalid),
    config: tolerance,
    correct: true,
    detail: /the same failure: INPUTS_INVALID at inputs.count/,
  },
  {
    name: "a failure whose file differs by one byte from the one the inputs give",
    reference: refused(invalid),
    candidate: tamperedFailure(invalid),
    correct: false,
    detail: /the inputs are invalid .*, yet the provider committed exit code 125, not that failure/,
  },
  {
    name: "a finished result for inputs the schema refuses",
    reference: refused(invalid),
    candidate: committed(0, { stdout: "< 42 >" }),
    correct: false,
    detail: /yet the provider committed exit code 0/,
  },
  {
    name: "a failure blaming the inputs when the mediator ran the job",
    reference: ran(0, { stdout: "< hello >" }),
    candidate: committedFailure(unavailable),
    correct: false,
    detail: /exit code 125, the re-run exited 0/,
  },
  {
    name: "a result it cannot show, even when the mediator cannot fetch the inputs",
    reference: refused(unavailable),
    candidate: { kind: "invalid", reason: "no result committed" },
    correct: false,
    detail: /no result committed/,
  },
];

for (const c of cases) {
  test(`a provider that committed ${c.name} is ruled ${c.correct ? "correct" : "wrong"}`, () => {
    const v = judge(c.reference, c.candidate, comparatorFor(c.config ?? exact));
    assert.equal(v.kind, "decided", v.kind === "undecided" ? v.reason : "");
    if (v.kind !== "decided") return;
    assert.equal(v.providerCorrect, c.correct, v.detail);
    assert.match(v.detail, c.detail);
  });
}

const undecidedCases: { name: string; candidate: Candidate }[] = [
  { name: "a finished result", candidate: committed(0, { stdout: "< hello >" }) },
  { name: "a failure other than the mediator's", candidate: committedFailure({ ...unavailable, field: "inputs.file" }) },
];

for (const c of undecidedCases) {
  test(`a mediator that cannot fetch the inputs has no evidence against a provider that committed ${c.name}`, () => {
    const v = judge(refused(unavailable), c.candidate, comparatorFor(exact));
    assert.equal(v.kind, "undecided");
    if (v.kind === "undecided") assert.match(v.reason, /cannot fetch the job's inputs .*no evidence either way/);
  });
}

test("a replica group with one replica the mediator has no evidence on is not ruled at all", () => {
  const judged = ruleOn(refused(unavailable), [committedFailure(unavailable), committed(0, { stdout: "42" })], comparatorFor(exact));
  assert.equal(judged.decided, false);
});

test("a committed failure is ruled with the exact comparator, whatever the module declares", () => {
  const judged = ruleOn(refused(invalid), [committedFailure(invalid)], comparatorFor(tolerance));
  assert.ok(judged.decided);
  if (judged.decided) assert.equal(judged.ruling.comparator, Comparator.exact);
});

test("a replica group is ruled replica by replica against one re-run, recording the comparator", () => {
  const reference = ran(0, { stdout: "42" });
  const judged = ruleOn(
    reference,
    [committed(0, { stdout: "42" }), committed(0, { stdout: "41" }), { kind: "invalid", reason: "no result committed" }],
    comparatorFor(exact),
  );
  assert.ok(judged.decided);
  if (!judged.decided) return;
  const ruling = judged.ruling;
  assert.deepEqual(ruling.correct, [true, false, false]);
  assert.equal(ruling.comparator, Comparator.exact);
  assert.equal(ruling.details.length, 3);
  assert.match(ruling.details[2]!, /no result committed/);
});
