// `node bench/load.ts`: how Lily holds up under concurrent job creators. For each concurrency
// level c (in order) it runs c submitters at once against one real `lily devnet`; each submitter
// is its own in-process SDK job creator (its own fresh, funded account and in-memory journal)
// sending cowsay@1.0.0 jobs one after another. Per level it reports jobs completed and failed
// (failures by error code and first line of message: they are what is measured, they never abort
// the run), wall-clock throughput (completed jobs / elapsed of the level) and the p50/p95
// latency, submit to result, of the completed jobs. It then summarises the warnings and errors
// in the devnet's role logs (copied to a kept folder before the devnet stops).
// Progress goes to stderr, the table to stdout (`--json`: the numbers as JSON instead).
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { formatEther, parseEther } from "viem";
import { generatePrivateKey } from "viem/accounts";
import { keyAccount, memoryJournal, type JobCreator } from "@lily/sdk";
import { startDevnet, stopAll, type Devnet } from "./devnet.ts";
import { fundEscrow, jobCreatorOn } from "./jobCreators.ts";
import { int, median, ms, progress, quantile, table } from "./stats.ts";

const USAGE = `usage: node_modules/.bin/node bench/load.ts [--concurrency 1,20,50] [--jobs-per-submitter N] [--providers P] [--job-timeout S] [--json]
  --concurrency L         comma-separated numbers of concurrent submitters, run in this order (default 1,20,50)
  --jobs-per-submitter N  jobs each submitter sends, one after another (default 3)
  --providers P           providers the devnet starts (default: the devnet's own default, 2)
  --job-timeout S         give up on one job after S seconds and count it as TIMEOUT (default 120)
  --json                  print the numbers as JSON instead of the table`;

const MODULE = "cowsay@1.0.0";
const MESSAGE = "moo under load";
/** The devnet's providers ask 1, 1.5, 2, ... LILY; 10 is far above any of them. */
const MAX_PRICE = parseEther("10");
const GAS_ETH = parseEther("1");

function options() {
  const { values } = parseArgs({
    options: {
      concurrency: { type: "string", default: "1,20,50" },
      "jobs-per-submitter": { type: "string", default: "3" },
      providers: { type: "string" },
      "job-timeout": { type: "string", default: "120" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const fail = (msg: string) => {
    process.stderr.write(`error: ${msg}\n${USAGE}\n`);
    process.exit(2);
  };
  const count = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) fail(`--${name}: expected an integer >= ${min}, got ${v}`);
    return n;
  };
  const levels = values.concurrency.split(",").map((v) => count("concurrency", v.trim(), 1));
  return {
    levels,
    jobsPerSubmitter: count("jobs-per-submitter", values["jobs-per-submitter"], 1),
    providers: values.providers === undefined ? undefined : count("providers", values.providers, 1),
    jobTimeoutMs: count("job-timeout", values["job-timeout"], 1) * 1000,
    json: values.json,
  };
}

interface JobOutcome {
  level: number;
  submitter: number;
  job: number;
  ok: boolean;
  ms: number;
  /** The last progress stage the job reached (inputs, offered, matched, signed, opened, ...). */
  stage: string;
  code?: string;
  message?: string;
}

async function main() {
  const opts = options();
  const began = performance.now();
  let keepLogs = () => {};
  const stopOnSignal = (sig: NodeJS.Signals) => {
    progress(`${sig}: stopping the devnet`);
    keepLogs();
    void stopAll().finally(() => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);

  const maxC = Math.max(...opts.levels);
  progress(`starting lily devnet${opts.providers ? ` with ${opts.providers} providers` : ""}`);
  const net = await startDevnet(opts.providers ? ["--providers", String(opts.providers)] : []);
  // The devnet's home (and its logs/) is deleted when it stops: copy the logs out first.
  const logsKept = mkdtempSync(join(tmpdir(), "lily-load-logs-"));
  const logsDir = join(net.home, "logs");
  keepLogs = () => {
    if (existsSync(logsDir)) cpSync(logsDir, logsKept, { recursive: true });
  };
  try {
    progress(`devnet up in ${ms(net.upMs)} (home ${net.home})`);
    const n = net.network;

    // 1. Accounts: one fresh key per submitter of the highest level, funded from anvil's first
    //    dev account (the deployer) one transaction at a time (it is one account: one nonce
    //    sequence), then every account deposits into escrow in parallel (each from its own).
    const t0 = performance.now();
    const accounts = Array.from({ length: maxC }, () => keyAccount(generatePrivateKey()));
    const jobsOf = (i: number) => opts.levels.filter((c) => c > i).length * opts.jobsPerSubmitter;
    const escrowFor = (i: number) => BigInt(jobsOf(i)) * MAX_PRICE + MAX_PRICE; // every job at maxPrice, plus one spare
    const funding = accounts.map((account, i) => ({ account, amount: escrowFor(i), eth: GAS_ETH }));
    await fundEscrow(n, funding, (k) => {
      if (k % 10 === 0 || k === maxC) progress(`funded ${k}/${maxC} job-creator accounts`);
    });
    const setupMs = performance.now() - t0;
    progress(`${maxC} accounts funded and deposited (up to ${formatEther(escrowFor(0))} LILY each) in ${ms(setupMs)}`);

    // One SDK job creator per account, each with its own in-memory journal (the SDK's default).
    const creators: JobCreator[] = accounts.map((account) => jobCreatorOn(n, account, { journal: memoryJournal() }));

    // 2. The levels, in order.
    const levels: LevelReport[] = [];
    for (const c of opts.levels) {
      progress(`concurrency ${c}: ${c} submitters × ${opts.jobsPerSubmitter} jobs`);
      const outcomes: JobOutcome[] = [];
      const total = c * opts.jobsPerSubmitter;
      const l0 = performance.now();
      const ticker = setInterval(() => {
        const failed = outcomes.filter((o) => !o.ok).length;
        progress(`  c=${c}: ${outcomes.length}/${total} done (${failed} failed) after ${ms(performance.now() - l0)}`);
      }, 10_000);
      await Promise.all(
        creators.slice(0, c).map(async (jc, s) => {
          for (let j = 0; j < opts.jobsPerSubmitter; j++) {
            const o = await runOne(jc, net, opts.jobTimeoutMs, { level: c, submitter: s, job: j });
            outcomes.push(o);
            if (!o.ok) progress(`  c=${c} submitter ${s} job ${j}: ${o.code} after ${ms(o.ms)} at stage ${o.stage}: ${o.message}`);
          }
        }),
      );
      clearInterval(ticker);
      const level = levelReport(c, opts.jobsPerSubmitter, outcomes, performance.now() - l0);
      levels.push(level);
      progress(`concurrency ${c}: ${level.completed}/${level.jobs} completed, ${level.failed} failed in ${ms(level.elapsedMs)}`);
    }

    // 3. What the devnet's roles logged at warn and error, before the devnet (and its home) goes.
    keepLogs();
    const logIssues = scanLogs(logsKept);
    const report = {
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, platform: `${process.platform}/${process.arch}` },
      params: {
        module: MODULE,
        concurrency: opts.levels,
        jobsPerSubmitter: opts.jobsPerSubmitter,
        providers: opts.providers ?? 2,
        jobTimeoutS: opts.jobTimeoutMs / 1000,
        maxPriceLily: formatEther(MAX_PRICE),
      },
      setup: { devnetUpMs: Math.round(net.upMs), accounts: maxC, fundAndDepositMs: Math.round(setupMs) },
      levels,
      logs: { kept: logsKept, issues: logIssues },
      totalSeconds: Math.round((performance.now() - began) / 100) / 10,
    };
    progress(`done in ${report.totalSeconds} s; devnet logs kept in ${logsKept}; stopping the devnet`);
    return opts.json ? JSON.stringify(report, null, 2) : render(report);
  } finally {
    if (readdirSync(logsKept).length === 0) keepLogs();
    await stopAll();
  }
}

/** One job, submit to result, never throwing: a failure or a hang (past the cap) is an outcome. */
async function runOne(jc: JobCreator, net: Devnet, capMs: number, at: { level: number; submitter: number; job: number }): Promise<JobOutcome> {
  let stage = "submitting";
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no result after ${capMs / 1000} s (bench cap)`), { code: "TIMEOUT" })), capMs);
  });
  try {
    const r = await Promise.race([
      jc.run({
        module: MODULE,
        inputs: { message: `${MESSAGE} ${at.level}/${at.submitter}/${at.job}` },
        maxPrice: MAX_PRICE,
        outDir: join(net.home, "results", `c${at.level}-s${at.submitter}-j${at.job}`),
        onProgress: (p) => (stage = p.stage),
      }),
      cap,
    ]);
    const elapsed = performance.now() - t0;
    if (r.exitCode !== 0 || !r.stdout.includes(MESSAGE))
      return { ...at, ok: false, ms: elapsed, stage, code: "BAD_OUTPUT", message: `exit code ${r.exitCode}, stdout ${JSON.stringify(r.stdout.slice(0, 60))}` };
    return { ...at, ok: true, ms: elapsed, stage: "done" };
  } catch (e) {
    const err = e as { code?: unknown; message?: unknown };
    const code = typeof err?.code === "string" ? err.code : e instanceof Error ? e.name : "UNKNOWN";
    const message = String(err?.message ?? e)
      .split("\n")[0]!
      .trim();
    return { ...at, ok: false, ms: performance.now() - t0, stage, code, message };
  } finally {
    clearTimeout(timer);
  }
}

/** Addresses, ids, hashes and big numbers differ per job: blank them so like failures group. */
const normalise = (s: string) =>
  s
    .replace(/0x[0-9a-fA-F]{8,}/g, "0x…")
    .replace(/\b\d{5,}\b/g, "N")
    .replace(/\s+/g, " ")
    .trim();

interface FailureGroup {
  code: string;
  stage: string;
  message: string;
  count: number;
}

function groupFailures(outcomes: JobOutcome[]): FailureGroup[] {
  const groups = new Map<string, FailureGroup>();
  for (const o of outcomes.filter((o) => !o.ok)) {
    const message = normalise(o.message ?? "");
    const key = `${o.code}\u0000${o.stage}\u0000${message}`;
    const g = groups.get(key) ?? { code: o.code ?? "UNKNOWN", stage: o.stage, message, count: 0 };
    g.count++;
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

function levelReport(c: number, perSubmitter: number, outcomes: JobOutcome[], elapsedMs: number) {
  const done = outcomes.filter((o) => o.ok).map((o) => o.ms);
  const failedMs = outcomes.filter((o) => !o.ok).map((o) => o.ms);
  const round = (v: number) => (Number.isFinite(v) ? Math.round(v) : null);
  return {
    submitters: c,
    jobs: c * perSubmitter,
    completed: done.length,
    failed: outcomes.length - done.length,
    elapsedMs: Math.round(elapsedMs),
    jobsPerSecond: done.length / (elapsedMs / 1000),
    latency: { p50Ms: round(median(done)), p95Ms: round(quantile(done, 0.95)), maxMs: round(done.length ? Math.max(...done) : Number.NaN) },
    failedAfter: { p50Ms: round(median(failedMs)), maxMs: round(failedMs.length ? Math.max(...failedMs) : Number.NaN) },
    failures: groupFailures(outcomes),
    /** Per submitter: how many of its jobs completed (to see whether failures cluster). */
    completedBySubmitter: Array.from({ length: c }, (_, s) => outcomes.filter((o) => o.submitter === s && o.ok).length),
  };
}
type LevelReport = ReturnType<typeof levelReport>;

interface LogIssue {
  role: string;
  level: string;
  msg: string;
  reason: string;
  count: number;
}

/** Every warn/error line of every role log, grouped by role, message and (normalised) reason. */
function scanLogs(dir: string): LogIssue[] {
  const groups = new Map<string, LogIssue>();
  for (const f of existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".log")) : []) {
    const role = f.replace(/\.log$/, "");
    for (const line of readFileSync(join(dir, f), "utf8").split("\n")) {
      if (!line.startsWith("{")) continue;
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line);
      } catch {
        continue;
      }
      if (rec.level !== "warn" && rec.level !== "error") continue;
      const err = rec.err as { code?: string; message?: string } | undefined;
      const raw =
        typeof rec.reason === "string"
          ? rec.reason
          : err
            ? `${err.code ? `${err.code}: ` : ""}${err.message ?? ""}`
            : typeof rec.error === "string"
              ? rec.error
              : "";
      const reason = normalise(raw.split("\n")[0]!).slice(0, 160);
      const key = `${role}\u0000${rec.level}\u0000${rec.msg}\u0000${reason}`;
      const g = groups.get(key) ?? { role, level: String(rec.level), msg: String(rec.msg), reason, count: 0 };
      g.count++;
      groups.set(key, g);
    }
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

type Report = {
  machine: { cpus: number; cpuModel: string; node: string };
  params: { module: string; jobsPerSubmitter: number; providers: number; jobTimeoutS: number };
  setup: { devnetUpMs: number; accounts: number; fundAndDepositMs: number };
  levels: LevelReport[];
  logs: { kept: string; issues: LogIssue[] };
  totalSeconds: number;
};

function render(r: Report): string {
  const out: string[] = [];
  const p = r.params;
  out.push(
    `Lily load benchmark: ${r.machine.cpus} cores (${r.machine.cpuModel}), Node ${r.machine.node}; ${p.module}, ${p.jobsPerSubmitter} jobs per submitter one after another, ${p.providers} providers, job cap ${p.jobTimeoutS} s; ${r.totalSeconds} s`,
  );
  out.push(
    `Set-up (not measured below): devnet up in ${ms(r.setup.devnetUpMs)}; ${r.setup.accounts} job-creator accounts funded and deposited in ${ms(r.setup.fundAndDepositMs)}.`,
  );
  out.push("");
  const short = (l: LevelReport) => (l.failures.length ? summarise(l.failures.map((f) => ({ code: f.code, count: f.count }))) : "");
  out.push(
    table(
      ["submitters", "jobs", "completed", "failed", "failures", "elapsed", "jobs/s", "p50", "p95"],
      r.levels.map((l) => [
        String(l.submitters),
        String(l.jobs),
        String(l.completed),
        String(l.failed),
        short(l),
        ms(l.elapsedMs),
        l.jobsPerSecond.toFixed(2),
        ms(l.latency.p50Ms ?? Number.NaN),
        ms(l.latency.p95Ms ?? Number.NaN),
      ]),
    ),
  );
  out.push("jobs/s = completed jobs / wall-clock time of the level; p50/p95: latency from submit to result of the completed jobs.");
  const failing = r.levels.filter((l) => l.failures.length);
  if (failing.length) {
    out.push("");
    out.push("Failures (code ×count, the stage the job had reached, first line of the error with ids blanked):");
    for (const l of failing) {
      out.push(
        `  ${l.submitters} submitters (failed jobs gave up after a median ${ms(l.failedAfter.p50Ms ?? Number.NaN)}, at most ${ms(l.failedAfter.maxMs ?? Number.NaN)}):`,
      );
      for (const f of l.failures) out.push(`    ${f.code} ×${f.count} at ${f.stage} (${f.message})`);
    }
  }
  out.push("");
  if (r.logs.issues.length) {
    out.push(`Warnings and errors in the devnet's role logs (kept in ${r.logs.kept}):`);
    const width = Math.max(...r.logs.issues.map((i) => `${i.role} ${i.level}`.length));
    for (const i of r.logs.issues.slice(0, 25))
      out.push(`  ${`${i.role} ${i.level}`.padEnd(width)}  ×${int(i.count)}  ${i.msg}${i.reason ? `: ${i.reason}` : ""}`);
    if (r.logs.issues.length > 25) out.push(`  ... and ${r.logs.issues.length - 25} more kinds (--json has them all)`);
  } else out.push(`No warnings or errors in the devnet's role logs (kept in ${r.logs.kept}).`);
  return out.join("\n");
}

/** "NO_MATCH ×7, TIMEOUT ×2": counts per code over all of its groups. */
function summarise(groups: { code: string; count: number }[]): string {
  const byCode = new Map<string, number>();
  for (const g of groups) byCode.set(g.code, (byCode.get(g.code) ?? 0) + g.count);
  return [...byCode]
    .sort((a, b) => b[1] - a[1])
    .map(([c, k]) => `${c} ×${k}`)
    .join(", ");
}

main().then(
  (text) => process.stdout.write(`${text}\n`, () => process.exit(0)),
  async (e) => {
    await stopAll();
    process.stderr.write(`load bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    if (e?.hint) process.stderr.write(`hint: ${e.hint}\n`);
    process.exit(1);
  },
);
