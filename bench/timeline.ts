// Where an end-to-end job's time goes: the job creator's own milestones (taken in this process)
// merged with the solver's and the providers' log lines for the same deal. All processes run on
// this machine, so their wall clocks agree; log timestamps have 1 ms resolution.
import { readFileSync } from "node:fs";
import type { DevnetJson } from "./devnet.ts";
import { median } from "./stats.ts";

interface LogLine {
  t: number;
  msg: string;
  id?: string;
  deal?: string;
  party?: string;
  durationMs?: number;
}

function readLog(path: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const raw of readFileSync(path, "utf8").split("\n")) {
    if (!raw.startsWith("{")) continue;
    try {
      const l = JSON.parse(raw) as { t: string } & Omit<LogLine, "t">;
      lines.push({ ...l, t: Date.parse(l.t) });
    } catch {
      // a line cut short by a crash
    }
  }
  return lines;
}

/** The job creator's side of one job, as wall-clock epoch ms. */
export interface JobMarks {
  dealId: string;
  start: number;
  /** Unknown when the job creator listened to no progress. */
  offered?: number;
  signed?: number;
  done: number;
}

/** The steps of the pipeline, in order: [label, who does it]. */
export const steps = [
  ["submit: resolve module, store inputs, sign and post the offer", "job creator"],
  ["match: solver proposes, job creator checks and signs", "solver + job creator"],
  ["provider signs (both signatures in)", "provider"],
  ["openDeal transaction until its receipt", "provider"],
  ["fetch module + inputs from the store, lay out /inputs", "provider"],
  ["sandbox: module runs (worker start to exit)", "provider"],
  ["store outputs, commitResult transaction until its receipt", "provider"],
  ["job creator notices the settlement, verifies, downloads", "job creator"],
] as const;

/** Per step, the duration of every job whose two milestones around that step were found. */
export function breakdown(state: DevnetJson, jobs: JobMarks[]): number[][] {
  const logs = [...Object.values(state.roles).map((r) => r.log)].flatMap(readLog);
  // Providers log a deal as `deal`, the solver as `id` (with `party` for signatures).
  const provider = (deal: string, msg: string) => logs.find((l) => l.deal === deal && l.msg === msg)?.t;
  const solver = (deal: string, msg: string, party: string) => logs.find((l) => l.id === deal && l.msg === msg && l.party === party)?.t;
  const perStep: number[][] = steps.map(() => []);
  for (const j of jobs) {
    const providerSigned = solver(j.dealId, "deal signed", "provider");
    const bothSigned = providerSigned === undefined || j.signed === undefined ? undefined : Math.max(providerSigned, j.signed);
    const marks = [
      j.start,
      j.offered,
      j.signed,
      bothSigned,
      provider(j.dealId, "deal opened"),
      provider(j.dealId, "job starting"),
      provider(j.dealId, "job finished"),
      provider(j.dealId, "result committed"),
      j.done,
    ];
    for (let i = 0; i < steps.length; i++) {
      const [from, to] = [marks[i], marks[i + 1]];
      if (from !== undefined && to !== undefined) perStep[i]!.push(to - from);
    }
  }
  return perStep;
}

export const stepMedians = (perStep: number[][]) => perStep.map((d) => median(d));
