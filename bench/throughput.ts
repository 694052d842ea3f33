// `npm run bench:throughput`: trivial jobs per second through the whole devnet (issue 10, target 3:
// at least 200 jobs/s with 8 providers on one 2-core machine), with p50 and p99 at that load and
// where the time goes. One real `lily devnet` with P providers; C in-process SDK job creators
// (each its own funded account) send cowsay@1.0.0 jobs one after another, J each. Printed, in one
// run: the baselines (the sandbox alone, jobs/s at full concurrency on this machine; one job
// creator alone, the unloaded latency), a warm-up at full load that is not measured (so the
// roles' code is compiled and optimized, as in a network that has been up for a while, rather
// than compiling through the measured level), the load level (jobs/s, p50, p99, the ratio to each
// baseline and to the 200 jobs/s target), the transactions and gas per job read back from the
// chain (with how many deals each provider transaction carried), the CPU each process used
// during the load level (from /proc, split by thread: threadCpu.ts), and the median time of each step of a job at
// load (the providers' and the solver's log lines, merged with the job creator's marks).
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseEther, type Hex } from "viem";
import { generatePrivateKey } from "viem/accounts";
import { keyAccount, memoryJournal, type JobCreator, type Progress } from "@lily/sdk";
import { rolePids, startDevnet, stopAll, type Devnet } from "./devnet.ts";
import { chainOn, fundEscrow, jobCreatorOn } from "./jobCreators.ts";
import { sandboxRunner } from "./sandbox.ts";
import { readProfiles, type RoleProfile } from "./cpuProfiles.ts";
import { cpuBetween, threadCpu, type CpuSplit } from "./threadCpu.ts";
import { countOption, median, ms, progress, quantile, ratio, table } from "./stats.ts";
import { breakdown, steps, type JobMarks } from "./timeline.ts";

const USAGE = `usage: node bench/throughput.ts [--providers P] [--submitters C] [--jobs-per-submitter J] [--trust-deals] [--profile] [--json]
  --providers P           providers the devnet starts (default 8)
  --submitters C          concurrent SDK job creators at load (default 64)
  --jobs-per-submitter J  jobs each sends, one after another (default 4)
  --warmup W              jobs each sends first, at the same load, not measured (default 2; 0: measure from the start,
                          V8 then compiles and optimizes the roles' code during the level: ~25% more CPU a job)
  --trust-deals           start the devnet with --trust-deals: trust jobs open and settle in batches on LilyTrustDeals
  --silent                job creators listen to no progress, as an SDK client running jobs in bulk (they then pass
                          over a job fewer times); the table of where a job's time goes lacks the steps its marks time
  --profile               run the devnet's processes under node --cpu-prof, from the sources rather than the
                          CLI bundle (so samples name their package), and print where each role's CPU went
  --json                  the numbers as JSON instead of the tables`;

const MODULE = "cowsay@1.0.0";
const MAX_PRICE = parseEther("10");
const TARGET_JOBS_PER_SECOND = 200;
/** A job with no result after this long counts as failed (TIMEOUT), so one stuck job cannot hold the run. */
const JOB_CAP_MS = 120_000;

function options() {
  const { values } = parseArgs({
    options: {
      providers: { type: "string", default: "8" },
      submitters: { type: "string", default: "64" },
      "jobs-per-submitter": { type: "string", default: "4" },
      warmup: { type: "string", default: "2" },
      json: { type: "boolean", default: false },
      profile: { type: "boolean", default: false },
      "trust-deals": { type: "boolean", default: false },
      silent: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const positive = countOption(USAGE);
  const count = (name: string, v: string) => positive(name, v, 1);
  return {
    providers: count("providers", values.providers),
    submitters: count("submitters", values.submitters),
    jobsPerSubmitter: count("jobs-per-submitter", values["jobs-per-submitter"]),
    warmup: positive("warmup", values.warmup, 0),
    json: values.json,
    profile: values.profile,
    trustDeals: values["trust-deals"],
    silent: values.silent,
  };
}

/** The warm-up level: every job creator sends `warmup` jobs, as at load; a failure stops the bench (the load level would measure a broken devnet). */
async function warmUp(net: Devnet, creators: JobCreator[], opts: { warmup: number; submitters: number; silent: boolean }): Promise<Level> {
  progress(`warm-up: ${opts.submitters} job creators × ${opts.warmup} jobs, not measured`);
  const warm = await level(net, creators, opts.warmup, "warmup", opts.silent);
  if (warm.failed > 0) throw new Error(`warm-up: ${warm.failed} of ${warm.jobs} jobs failed; first: ${warm.failures[0]}`);
  return warm;
}

/** Every process of the devnet by name (the chain, each role), with this bench's own. */
function processes(net: Devnet): { name: string; pid: number }[] {
  const s = net.state;
  return [
    ...(s.chain.pid ? [{ name: "chain (anvil)", pid: s.chain.pid }] : []),
    ...Object.entries(s.roles).map(([name, r]) => ({ name, pid: r.pid })),
    { name: "devnet supervisor", pid: s.pid },
    { name: "bench (SDK job creators)", pid: process.pid },
  ].filter((p) => p.pid === s.pid || p.pid === process.pid || rolePids(s).includes(p.pid));
}

interface Level {
  jobs: number;
  completed: number;
  failed: number;
  failures: string[];
  elapsedMs: number;
  jobsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  marks: JobMarks[];
  fromBlock: bigint;
  toBlock: bigint;
}

/** C submitters × J jobs each, one after another per submitter; never throws for a job. */
async function level(net: Devnet, creators: JobCreator[], perSubmitter: number, tag: string, silent: boolean): Promise<Level> {
  const chain = chainOn(net.network);
  const fromBlock = (await chain.publicClient.getBlockNumber()) + 1n;
  const latencies: number[] = [];
  const marks: JobMarks[] = [];
  const failures: string[] = [];
  const total = creators.length * perSubmitter;
  const t0 = performance.now();
  const ticker = setInterval(() => progress(`  ${tag}: ${latencies.length}/${total} done, ${failures.length} failed, ${ms(performance.now() - t0)}`), 10_000);
  await Promise.all(
    creators.map(async (jc, s) => {
      for (let j = 0; j < perSubmitter; j++) {
        const m: { start: number; offered?: number; signed?: number } = { start: Date.now() };
        const started = performance.now();
        try {
          let timer: NodeJS.Timeout | undefined;
          const cap = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(Object.assign(new Error(`no result after ${JOB_CAP_MS / 1000} s (bench cap)`), { code: "TIMEOUT" })), JOB_CAP_MS);
          });
          const r = await Promise.race([
            cap,
            jc.run({
              module: MODULE,
              inputs: { message: `moo ${tag} ${s}/${j}` },
              maxPrice: MAX_PRICE,
              outDir: join(net.home, "results", `${tag}-${s}-${j}`),
              ...(!silent && {
                onProgress: (p: Progress) => {
                  if (p.stage === "offered") m.offered = Date.now();
                  if (p.stage === "signed") m.signed = Date.now();
                },
              }),
            }),
          ]).finally(() => clearTimeout(timer));
          if (r.exitCode !== 0 || !r.stdout.includes("moo")) throw new Error(`bad output: exit ${r.exitCode}`);
          latencies.push(performance.now() - started);
          marks.push({ ...m, dealId: r.dealId, done: Date.now() });
        } catch (e) {
          failures.push(`${(e as { code?: string }).code ?? "ERROR"}: ${String((e as Error).message ?? e).split("\n")[0]}`);
        }
      }
    }),
  );
  clearInterval(ticker);
  const elapsedMs = performance.now() - t0;
  const toBlock = await chain.publicClient.getBlockNumber();
  return {
    jobs: total,
    completed: latencies.length,
    failed: failures.length,
    failures,
    elapsedMs,
    jobsPerSecond: latencies.length / (elapsedMs / 1000),
    p50Ms: median(latencies),
    p99Ms: quantile(latencies, 0.99),
    marks,
    fromBlock,
    toBlock,
  };
}

/** Transactions sent to the deals contracts (LilyDeals, LilyTrustDeals) in the level's blocks, by who sent them, and what they cost. */
async function chainCost(net: Devnet, l: Level) {
  const chain = chainOn(net.network);
  const providers = new Set(
    Object.entries(net.state.roles)
      .filter(([name]) => name.startsWith("provider"))
      .map(([, r]) => r.address?.toLowerCase()),
  );
  const contracts = new Set([net.network.deals, net.network.trustDeals].filter((a) => a !== undefined).map((a) => a.toLowerCase()));
  let providerTxs = 0;
  let otherTxs = 0;
  let gas = 0n;
  let providerGas = 0n;
  const bySelector = new Map<string, number>();
  for (let b = l.fromBlock; b <= l.toBlock; b++) {
    const block = await chain.publicClient.getBlock({ blockNumber: b, includeTransactions: true });
    for (const tx of block.transactions) {
      if (!tx.to || !contracts.has(tx.to.toLowerCase())) continue;
      const receipt = await chain.publicClient.getTransactionReceipt({ hash: tx.hash as Hex });
      gas += receipt.gasUsed;
      const selector = tx.input.slice(0, 10);
      bySelector.set(selector, (bySelector.get(selector) ?? 0) + 1);
      if (providers.has(tx.from.toLowerCase())) {
        providerTxs++;
        providerGas += receipt.gasUsed;
      } else otherTxs++;
    }
  }
  return { providerTxs, otherTxs, gas, providerGas };
}

/** How many deals each provider transaction carried, from the providers' logs (batchSize). */
function batchSizes(net: Devnet): { open: number[]; commit: number[] } {
  const out = { open: [] as number[], commit: [] as number[] };
  for (const [name, r] of Object.entries(net.state.roles)) {
    if (!name.startsWith("provider")) continue;
    for (const line of readFileSync(r.log, "utf8").split("\n")) {
      if (!line.includes("batchSize")) continue;
      try {
        const rec = JSON.parse(line) as { msg: string; batchSize: number };
        if (rec.msg === "deal opened") out.open.push(rec.batchSize);
        if (rec.msg === "result committed") out.commit.push(rec.batchSize);
      } catch {
        // a line cut short
      }
    }
  }
  return out;
}

async function main() {
  const opts = options();
  process.once("SIGINT", () => void stopAll().finally(() => process.exit(130)));

  // 1. Baseline: the sandbox alone, as many at once as there are cores, for the module's output.
  progress("baseline: cowsay in the WASM sandbox alone");
  const sandbox = await sandboxRunner(MODULE, { message: "moo" });
  const sandboxRuns = 40;
  const s0 = performance.now();
  const lanes = cpus().length;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      for (let i = 0; i < sandboxRuns / lanes; i++) await sandbox.run();
    }),
  );
  const sandboxJobsPerSecond = sandboxRuns / ((performance.now() - s0) / 1000);
  sandbox.close();

  // Every process the devnet starts inherits NODE_OPTIONS and writes its profile when it exits.
  const profileDir = opts.profile ? mkdtempSync(join(tmpdir(), "lily-throughput-prof-")) : undefined;
  if (profileDir) {
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --cpu-prof --cpu-prof-dir=${profileDir}`.trim();
    // From the sources, so each sample names its package and file (the bundle's chunks would not).
    process.env.LILY_FROM_SOURCE = "1";
  }
  progress(`starting lily devnet with ${opts.providers} providers`);
  // No container modules: the bench runs cowsay only, and a Docker daemon would slow the start.
  const net = await startDevnet(["--providers", String(opts.providers), "--docker", "off", ...(opts.trustDeals ? ["--trust-deals"] : [])]);
  try {
    progress(`devnet up in ${ms(net.upMs)}`);
    const accounts = Array.from({ length: opts.submitters }, () => keyAccount(generatePrivateKey()));
    const escrow = BigInt(opts.jobsPerSubmitter + opts.warmup + 4) * MAX_PRICE;
    await fundEscrow(
      net.network,
      accounts.map((account) => ({ account, amount: escrow, eth: parseEther("1") })),
      (k) => {
        if (k % 16 === 0) progress(`funded ${k}/${opts.submitters} job creators`);
      },
    );
    const creators = accounts.map((account) => jobCreatorOn(net.network, account, { journal: memoryJournal() }));

    // 2. Baseline: one job creator alone (unloaded latency).
    progress("baseline: one job creator, 4 jobs one after another");
    const alone = await level(net, creators.slice(0, 1), 4, "alone", opts.silent);

    // 3. The warm-up: the same load, not measured.
    const warmup = opts.warmup > 0 ? await warmUp(net, creators, opts) : undefined;

    // 4. The load level, with each process's CPU measured around it.
    progress(`load: ${opts.submitters} job creators × ${opts.jobsPerSubmitter} jobs`);
    const procs = processes(net);
    const cpu0 = procs.map((p) => threadCpu(p.pid));
    const load = await level(net, creators, opts.jobsPerSubmitter, "load", opts.silent);
    const cpu1 = procs.map((p) => threadCpu(p.pid));
    const cpu = procs.map((p, i) => ({ name: p.name, ...cpuBetween(p.pid, cpu0[i], cpu1[i]) })).sort((a, b) => b.seconds - a.seconds);

    progress("reading transactions and gas from the chain");
    const cost = await chainCost(net, load);
    const batches = batchSizes(net);
    const perStep = breakdown(net.state, load.marks);

    const report = {
      machine: { cpus: cpus().length, node: process.version },
      params: { ...opts, module: MODULE },
      baselines: { sandboxJobsPerSecond, alone: { jobsPerSecond: alone.jobsPerSecond, p50Ms: alone.p50Ms, p99Ms: alone.p99Ms } },
      warmup: warmup && { jobs: warmup.jobs, failed: warmup.failed, jobsPerSecond: warmup.jobsPerSecond, p50Ms: warmup.p50Ms, p99Ms: warmup.p99Ms },
      load: { ...load, marks: undefined, fromBlock: String(load.fromBlock), toBlock: String(load.toBlock) },
      chain: {
        providerTxsPerJob: cost.providerTxs / Math.max(1, load.completed),
        otherTxsPerJob: cost.otherTxs / Math.max(1, load.completed),
        gasPerJob: Number(cost.gas) / Math.max(1, load.completed),
        providerGasPerJob: Number(cost.providerGas) / Math.max(1, load.completed),
        providerTxs: cost.providerTxs,
        otherTxs: cost.otherTxs,
        dealsPerOpenTx: batches.open.length ? batches.open.length / batches.open.reduce((n, b) => n + 1 / b, 0) : Number.NaN,
        dealsPerCommitTx: batches.commit.length ? batches.commit.length / batches.commit.reduce((n, b) => n + 1 / b, 0) : Number.NaN,
        largestBatch: Math.max(0, ...batches.open, ...batches.commit),
      },
      cpu: cpu.map((c) => ({ ...c, coreShare: c.seconds / (load.elapsedMs / 1000) })),
      steps: steps.map(([step, who], i) => ({ step, who, medianMs: median(perStep[i]!), p99Ms: quantile(perStep[i]!, 0.99), jobs: perStep[i]!.length })),
    };
    await stopAll(); // the roles write their profiles as they exit
    const profiles = profileDir ? { dir: profileDir, roles: readProfiles(profileDir) } : undefined;
    const full = { ...report, profiles };
    return opts.json ? JSON.stringify(full, (_, v) => (typeof v === "bigint" ? String(v) : v), 2) : render(full);
  } finally {
    await stopAll();
  }
}

function render(r: {
  machine: { cpus: number; node: string };
  params: { providers: number; submitters: number; jobsPerSubmitter: number; module: string };
  baselines: { sandboxJobsPerSecond: number; alone: { jobsPerSecond: number; p50Ms: number; p99Ms: number } };
  warmup?: { jobs: number; failed: number; jobsPerSecond: number; p50Ms: number; p99Ms: number };
  load: { jobs: number; completed: number; failed: number; failures: string[]; elapsedMs: number; jobsPerSecond: number; p50Ms: number; p99Ms: number };
  chain: Record<string, number>;
  cpu: ({ name: string; coreShare: number } & CpuSplit)[];
  steps: { step: string; who: string; medianMs: number; p99Ms: number; jobs: number }[];
  profiles?: { dir: string; roles: RoleProfile[] };
}): string {
  const { params: p, load: l, baselines: b, chain: c } = r;
  const out: string[] = [];
  out.push(
    `Lily throughput: ${r.machine.cpus} cores, Node ${r.machine.node}; ${p.module}; ${p.providers} providers; ${p.submitters} SDK job creators × ${p.jobsPerSubmitter} jobs`,
  );
  out.push("");
  out.push(
    table(
      ["run", "jobs", "failed", "jobs/s", "p50", "p99", "jobs/s vs load"],
      [
        ["sandbox alone (baseline, no network)", "40", "0", b.sandboxJobsPerSecond.toFixed(1), "", "", ratio(b.sandboxJobsPerSecond, l.jobsPerSecond)],
        [
          "one job creator (baseline)",
          "4",
          "0",
          b.alone.jobsPerSecond.toFixed(2),
          ms(b.alone.p50Ms),
          ms(b.alone.p99Ms),
          ratio(b.alone.jobsPerSecond, l.jobsPerSecond),
        ],
        ...(r.warmup
          ? [
              [
                "warm-up at load (not measured)",
                String(r.warmup.jobs),
                String(r.warmup.failed),
                r.warmup.jobsPerSecond.toFixed(2),
                ms(r.warmup.p50Ms),
                ms(r.warmup.p99Ms),
                ratio(r.warmup.jobsPerSecond, l.jobsPerSecond),
              ],
            ]
          : []),
        [`load: ${p.submitters} job creators`, String(l.jobs), String(l.failed), l.jobsPerSecond.toFixed(2), ms(l.p50Ms), ms(l.p99Ms), "1x"],
        ["target (issue 10)", "", "", String(TARGET_JOBS_PER_SECOND), "", "", ratio(TARGET_JOBS_PER_SECOND, l.jobsPerSecond)],
      ],
    ),
  );
  if (l.failures.length) {
    const byCode = new Map<string, number>();
    for (const f of l.failures) byCode.set(f.split(":")[0]!, (byCode.get(f.split(":")[0]!) ?? 0) + 1);
    out.push(`failures: ${[...byCode].map(([code, n]) => `${code} ×${n}`).join(", ")}; first: ${l.failures[0]!.slice(0, 300)}`);
  }
  out.push("");
  out.push(
    `Chain at load: ${c.providerTxs} provider transactions (${c.providerTxsPerJob!.toFixed(2)} per job; a deal per open tx ${c.dealsPerOpenTx!.toFixed(2)}, per commit tx ${c.dealsPerCommitTx!.toFixed(2)}, largest batch ${c.largestBatch}), ${c.otherTxs} from others; gas per job ${Math.round(c.gasPerJob!).toLocaleString("en")} (provider's ${Math.round(c.providerGasPerJob!).toLocaleString("en")})`,
  );
  out.push("");
  const perJob = (seconds: number) => ((seconds * 1000) / Math.max(1, l.completed)).toFixed(0);
  const sum = (key: keyof CpuSplit) => r.cpu.reduce((n, x) => n + x[key], 0);
  out.push("CPU during the load level (seconds, share of one core over the level's wall time, CPU ms per completed job;");
  out.push("then ms per job by thread: the main thread, V8's GC and compiler threads, the rest such as sandbox workers):");
  out.push(
    table(
      ["process", "cpu s", "core share", "cpu ms/job", "main", "V8 helpers", "other threads"],
      [
        ...r.cpu.map((x) => [
          x.name,
          x.seconds.toFixed(1),
          `${Math.round(100 * x.coreShare)}%`,
          perJob(x.seconds),
          perJob(x.main),
          perJob(x.v8Helpers),
          perJob(x.other),
        ]),
        ["all of them", sum("seconds").toFixed(1), "", perJob(sum("seconds")), perJob(sum("main")), perJob(sum("v8Helpers")), perJob(sum("other"))],
      ],
    ),
  );
  out.push("");
  out.push(
    "Where a job's time goes at load (median and p99 per step, jobs with both of a step's marks found;\nwith --silent the job creator marks neither its offer nor its signature):",
  );
  out.push(
    table(
      ["step", "who", "median", "p99", "jobs"],
      r.steps.map((s) => [s.step, s.who, ms(s.medianMs), ms(s.p99Ms), String(s.jobs)]),
    ),
  );
  if (r.profiles) {
    out.push("");
    out.push(`Where each role's CPU went (V8 profiles over each process's whole life, start-up included; self ms by package; ${r.profiles.dir}):`);
    for (const p of r.profiles.roles)
      out.push(
        `  ${p.role} (${p.processes} process${p.processes > 1 ? "es" : ""}, ${Math.round(p.busyMs).toLocaleString("en")} ms busy): ${p.top.map((t) => `${t.what} ${Math.round(t.ms).toLocaleString("en")}`).join(", ")}`,
      );
  }
  out.push(
    `(total from submit to result: p50 ${ms(l.p50Ms)}; the rest of the time a job waits for a provider's capacity: each cowsay job holds 1 of a provider's 2 CPUs from signing to its commit's receipt)`,
  );
  return out.join("\n");
}

main().then(
  (text) => process.stdout.write(`${text}\n`, () => process.exit(0)),
  async (e) => {
    await stopAll();
    process.stderr.write(`throughput bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
