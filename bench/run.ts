// `npm run bench`: how fast and how heavy Lily is, each figure as a ratio against a baseline
// measured in this same run (never an absolute threshold):
//   1. devnet start-up (spawn `lily devnet` to "Lily devnet is up") vs a bare embedded chain;
//   2. end-to-end latency of cowsay@1.0.0 through the real network, via the SDK in-process and
//      via `lily run`, vs the same module on the same input in the WASM executor alone;
//   3. transactions and gas per job read back from the chain, vs the reference system's
//      published 4 transactions and ~1.77 M gas per job; one-off deposits apart;
//   4. peak RSS of every devnet process after the jobs, vs a bare Node process / bare anvil.
// Progress goes to stderr, the table to stdout (`--json`: the numbers as JSON instead).
import { spawn } from "node:child_process";
import { cpus } from "node:os";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseEther, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { escrowBalance, startAnvil } from "@lily/chain";
import { decryptKey } from "@lily/node-kit";
// @ts-expect-error: plain JS without types, shared with bin/lily.js
import { currentBundle } from "../packages/cli/bin/currentBundle.js";
import { LILY, startDevnet, stopAll, runLily, type Devnet } from "./devnet.ts";
import { chainOn, fundEscrow, jobCreatorOn } from "./jobCreators.ts";
import { sandboxRunner } from "./sandbox.ts";
import { dealCost, transactionsIn, type ChainTx, type DealCost } from "./chain.ts";
import { bareNodeHwmKib, cliLoadedHwmKib, procMemory } from "./memory.ts";
import { breakdown, stepMedians, steps, type JobMarks } from "./timeline.ts";
import { countOption, int, median, mib, ms, progress, quantile, ratio, table } from "./stats.ts";

const USAGE = `usage: npm run bench [-- --jobs N] [--cli-runs K] [--starts S] [--json]
  --jobs N      jobs sent through the SDK in-process, one after another (default 10)
  --cli-runs K  jobs run through \`lily run\` processes after those, to show the CLI start-up (default 5)
  --starts S    devnet start-ups to time, each against a bare anvil start (default 5)
  --json        print the numbers as JSON instead of the table`;

/** The reference system's published per-job cost (a constant quoted, not measured here). */
const REFERENCE = { name: "reference system (published)", txs: 4, gas: 1_770_000 };
const MODULE = "cowsay@1.0.0";
const INPUTS = { message: "hello from the Lily benchmark" };
const MAX_PRICE = parseEther("10");
/** How long the devnet is left alone after "up" before its idle memory is read. */
const IDLE_SETTLE_MS = 3_000;
const DEVNET_PASSWORD = "lily-devnet"; // the public devnet default (LILY_KEYSTORE_PASSWORD overrides it, as in the CLI)

function options() {
  const { values } = parseArgs({
    options: {
      jobs: { type: "string", default: "10" },
      "cli-runs": { type: "string", default: "5" },
      starts: { type: "string", default: "5" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const count = countOption(USAGE);
  return {
    jobs: count("jobs", values.jobs, 1),
    cliRuns: count("cli-runs", values["cli-runs"], 0),
    starts: count("starts", values.starts, 1),
    json: values.json,
  };
}

async function main() {
  const opts = options();
  const began = performance.now();
  const sandbox = await sandboxRunner(MODULE, INPUTS);
  const stopOnSignal = (sig: NodeJS.Signals) => {
    progress(`${sig}: stopping the devnet`);
    sandbox.close();
    void stopAll().finally(() => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  let net: Devnet | undefined;
  try {
    // 1. Start-up: a bare anvil, then a whole devnet, alternately so both see the same noise.
    const anvilMs: number[] = [];
    const anvilHwm: number[] = [];
    const devnetMs: number[] = [];
    const devnetReportedMs: number[] = [];
    const devnetPhases: Devnet["phases"][] = [];
    for (let i = 0; i < opts.starts; i++) {
      progress(`start-up ${i + 1}/${opts.starts}: bare anvil`);
      const t0 = performance.now();
      const anvil = await startAnvil();
      anvilMs.push(performance.now() - t0);
      const mem = procMemory(anvil.pid);
      if (mem) anvilHwm.push(mem.hwmKib);
      await anvil.stop();
      progress(`start-up ${i + 1}/${opts.starts}: lily devnet`);
      const d = await startDevnet();
      devnetMs.push(d.upMs);
      devnetReportedMs.push(d.reportedMs);
      devnetPhases.push(d.phases);
      progress(`  devnet up in ${ms(d.upMs)} (bare anvil ${ms(anvilMs.at(-1)!)})`);
      if (i < opts.starts - 1) await d.stop();
      else net = d;
    }
    if (!net) throw new Error("no devnet started");
    // Idle memory (issue 10's target: each idle role under 80 MiB): RSS of every role once the
    // devnet is up and has settled, before any job ran.
    await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
    const idleRss = new Map([net.state.pid, ...Object.values(net.state.roles).map((r) => r.pid)].map((pid) => [pid, procMemory(pid)?.rssKib]));

    // 2. The job creator in-process, with the devnet's network.json and its keystore.
    const n = net.network;
    const account = jobCreatorAccount(net.home);
    const jc = jobCreatorOn(n, account);
    const chain = chainOn(n);
    await topUpEscrow(net, account, BigInt(opts.jobs + opts.cliRuns) * parseEther("1") + MAX_PRICE);

    const sdkMs: number[] = [];
    const sandboxMs: number[] = [];
    const marks: JobMarks[] = [];
    // The baseline runs first, all of them: each sandbox run starts a spare worker in this process
    // afterwards (~40 ms of CPU), which on 2 cores slowed the network job that followed it when
    // the two were interleaved.
    let base = { ms: 0, stdout: "" };
    for (let i = 0; i < opts.jobs; i++) {
      base = await sandbox.run();
      sandboxMs.push(base.ms);
    }
    await new Promise((r) => setTimeout(r, 1_000));
    for (let i = 0; i < opts.jobs; i++) {
      const m = { start: Date.now(), offered: 0, signed: 0 };
      const t0 = performance.now();
      const r = await jc.run({
        module: MODULE,
        inputs: INPUTS,
        maxPrice: MAX_PRICE,
        outDir: join(net.home, "results", String(i)),
        onProgress: (p) => {
          if (p.stage === "offered") m.offered = Date.now();
          if (p.stage === "signed") m.signed = Date.now();
        },
      });
      sdkMs.push(performance.now() - t0);
      marks.push({ ...m, dealId: r.dealId, done: Date.now() });
      if (r.exitCode !== 0 || r.stdout !== base.stdout)
        throw new Error(`job ${i}: the network's output differs from the sandbox's:\n${r.stdout}\n---\n${base.stdout}`);
      progress(`job ${i + 1}/${opts.jobs}: ${ms(sdkMs.at(-1)!)} end to end (sandbox alone ${ms(sandboxMs[i]!)})`);
    }

    // 3. Transactions and gas, read back from the chain.
    progress("reading transactions and gas from the chain");
    const costs: DealCost[] = [];
    for (const j of marks) costs.push(await dealCost(chain, j.dealId as Hex));
    const firstJobBlock = costs.map((c) => c.blocks[0]).reduce((a, b) => (b < a ? b : a));
    const lastJobBlock = costs.map((c) => c.blocks[1]).reduce((a, b) => (b > a ? b : a));
    const setup = await transactionsIn(chain, BigInt(n.deployBlock) + 1n, firstJobBlock - 1n);
    const during = await transactionsIn(chain, firstJobBlock, lastJobBlock);
    const dealTxs = new Set(costs.flatMap((c) => c.txs));
    const strays = during.filter((t) => !dealTxs.has(t.hash));

    // 2b. The same job through `lily run` processes: the CLI's start-up on top of the SDK.
    const cliMs: number[] = [];
    const cliFirstMs: number[] = [];
    const cliLoadMs: number[] = [];
    const bareNodeMs: number[] = [];
    // bin/lily.js runs the TypeScript sources, about twice as slow, whenever a source changed after
    // `npm run build:cli`: which code each run had is checked, not assumed.
    let cliFromSources = 0;
    for (let i = 0; i < opts.cliRuns; i++) {
      if (process.env.LILY_FROM_SOURCE === "1" || !currentBundle()) cliFromSources++;
      // `lily --help` (issue 10: at most 100 ms), beside a bare `node -e 0` started the same way at
      // the same moment: what any Node process costs to start on this machine right now.
      const help = await runLily(net.home, ["--help"]);
      if (help.code !== 0) throw new Error(`lily --help exited ${help.code}:\n${help.stderr}`);
      cliLoadMs.push(help.ms);
      bareNodeMs.push(await timeBareNode());
      const r = await runLily(net.home, ["run", MODULE, ...Object.entries(INPUTS).flatMap(([k, v]) => ["-i", `${k}=${v}`]), "--json"]);
      if (r.code !== 0) throw new Error(`lily run exited ${r.code}:\n${r.stderr}`);
      cliMs.push(r.ms);
      cliFirstMs.push(r.firstProgressMs);
      progress(`lily run ${i + 1}/${opts.cliRuns}: ${ms(r.ms)} (first progress line after ${ms(r.firstProgressMs)}; lily --help ${ms(help.ms)})`);
    }

    // 4. Memory, after the jobs ran.
    const s = net.state;
    const bareNode = bareNodeHwmKib();
    const bareAnvil = anvilHwm.length ? median(anvilHwm) : undefined;
    // Each role is the `lily` CLI started with its command (provider-1 with `provider`): its floor
    // is that command's help, the CLI and the command's modules loaded, measured once a command.
    const floors = new Map<string, number | undefined>();
    const floor = (command: string) => {
      if (!floors.has(command)) floors.set(command, cliLoadedHwmKib(LILY, command));
      return { baseline: floors.get(command), baselineName: `lily ${command} --help` };
    };
    const procs = [
      { role: "devnet (supervisor)", pid: s.pid, ...floor("devnet") },
      ...(s.chain.pid ? [{ role: "chain (anvil)", pid: s.chain.pid, baseline: bareAnvil, baselineName: "bare anvil" }] : []),
      ...Object.entries(s.roles).map(([role, r]) => ({ role, pid: r.pid, ...floor(role.replace(/-\d+$/, "")) })),
    ].map((p) => ({ ...p, ...procMemory(p.pid), idleRssKib: idleRss.get(p.pid) }));

    const perStep = breakdown(s, marks);
    const report = buildReport({
      opts,
      anvilMs,
      devnetMs,
      devnetReportedMs,
      devnetPhases,
      sdkMs,
      sandboxMs,
      cliMs,
      cliFirstMs,
      cliLoadMs,
      bareNodeMs,
      cliFromSources,
      costs,
      setup,
      strays,
      procs,
      bareNode,
      bareAnvil,
      perStep,
    });
    report.totalSeconds = Math.round((performance.now() - began) / 100) / 10;
    progress(`done in ${report.totalSeconds} s; stopping the devnet`);
    return opts.json ? JSON.stringify(report, null, 2) : render(report);
  } finally {
    await stopAll();
    sandbox.close();
  }
}

/** The job creator's key, from the keystore the devnet created in its home (as the CLI loads it). */
function jobCreatorAccount(home: string) {
  const keystore = JSON.parse(readFileSync(join(home, "keys", "job-creator.json"), "utf8"));
  return privateKeyToAccount(decryptKey(keystore, process.env.LILY_KEYSTORE_PASSWORD ?? DEVNET_PASSWORD, "job-creator keystore"));
}

/** Make sure the job creator's escrow covers every job of this run (the devnet deposits 100 LILY). */
async function topUpEscrow(net: Devnet, account: ReturnType<typeof jobCreatorAccount>, need: bigint): Promise<void> {
  const have = await escrowBalance(chainOn(net.network), { account: account.address });
  if (have >= need) return;
  progress(`depositing ${need - have} more wei of LILY for the job creator`);
  await fundEscrow(net.network, [{ account, amount: need - have }]);
}

interface Inputs {
  opts: ReturnType<typeof options>;
  anvilMs: number[];
  devnetMs: number[];
  devnetReportedMs: number[];
  devnetPhases: Devnet["phases"][];
  sdkMs: number[];
  sandboxMs: number[];
  cliMs: number[];
  cliFirstMs: number[];
  cliLoadMs: number[];
  bareNodeMs: number[];
  /** How many of the `lily` runs found the bundle stale (or LILY_FROM_SOURCE=1) and ran the sources. */
  cliFromSources: number;
  costs: DealCost[];
  setup: ChainTx[];
  strays: ChainTx[];
  procs: { role: string; pid: number; hwmKib?: number; rssKib?: number; idleRssKib?: number; baseline?: number; baselineName: string }[];
  bareNode?: number;
  bareAnvil?: number;
  perStep: number[][];
}

const round = (v: number) => (Number.isFinite(v) ? Math.round(v) : null);

function buildReport(x: Inputs) {
  const N = x.costs.length;
  const txs = x.costs.map((c) => c.txs.length);
  const gas = x.costs.map((c) => Number(c.gas));
  const deposits = x.setup.filter((t) => t.kind === "approve" || t.kind === "deposit");
  const funding = x.setup.filter((t) => !deposits.includes(t));
  const depositGas = deposits.reduce((a, t) => a + Number(t.gas), 0);
  const sdkP50 = median(x.sdkMs);
  const stepMs = stepMedians(x.perStep);
  return {
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, platform: `${process.platform}/${process.arch}` },
    params: { jobs: x.opts.jobs, cliRuns: x.opts.cliRuns, starts: x.opts.starts, module: MODULE },
    startup: {
      devnetMedianMs: round(median(x.devnetMs)),
      devnetReportedMedianMs: round(median(x.devnetReportedMs)),
      bareAnvilMedianMs: round(median(x.anvilMs)),
      ratio: median(x.devnetMs) / median(x.anvilMs),
      devnetMs: x.devnetMs.map(round),
      bareAnvilMs: x.anvilMs.map(round),
      phases: phaseMedians(x.devnetPhases),
    },
    latency: {
      sdk: { p50Ms: round(sdkP50), p90Ms: round(quantile(x.sdkMs, 0.9)), runsMs: x.sdkMs.map(round) },
      sandboxOnly: { p50Ms: round(median(x.sandboxMs)), p90Ms: round(quantile(x.sandboxMs, 0.9)), runsMs: x.sandboxMs.map(round) },
      overheadFactorP50: sdkP50 / median(x.sandboxMs),
      overheadFactorP90: quantile(x.sdkMs, 0.9) / quantile(x.sandboxMs, 0.9),
      cli: x.cliMs.length
        ? {
            p50Ms: round(median(x.cliMs)),
            runsMs: x.cliMs.map(round),
            firstProgressP50Ms: round(median(x.cliFirstMs)),
            helpP50Ms: round(median(x.cliLoadMs)),
            bareNodeP50Ms: round(median(x.bareNodeMs)),
            startupCostMs: round(median(x.cliMs) - sdkP50),
            ratioToSdk: median(x.cliMs) / sdkP50,
            runsFromSources: x.cliFromSources,
          }
        : null,
      breakdown: steps.map(([step, who], i) => ({ step, who, medianMs: round(stepMs[i]!), jobs: x.perStep[i]!.length })),
    },
    chain: {
      jobs: N,
      txsPerJob: { median: median(txs), min: Math.min(...txs), max: Math.max(...txs), total: txs.reduce((a, b) => a + b, 0) },
      gasPerJob: { median: median(gas), mean: Math.round(gas.reduce((a, b) => a + b, 0) / N), min: Math.min(...gas), max: Math.max(...gas) },
      reference: REFERENCE,
      txRatio: median(txs) / REFERENCE.txs,
      gasRatio: median(gas) / REFERENCE.gas,
      oneOffDeposits: { txs: deposits.length, gas: depositGas, perJob: { txs: deposits.length / N, gas: Math.round(depositGas / N) } },
      devnetFunding: { txs: funding.length, gas: funding.reduce((a, t) => a + Number(t.gas), 0), kinds: [...new Set(funding.map((t) => t.kind))] },
      otherTxsWhileJobsRan: x.strays.map((t) => ({ hash: t.hash, kind: t.kind, gas: Number(t.gas) })),
    },
    memory: {
      bareNodeHwmKib: x.bareNode ?? null,
      bareAnvilHwmKib: x.bareAnvil ?? null,
      processes: x.procs.map((p) => ({
        role: p.role,
        pid: p.pid,
        hwmKib: p.hwmKib ?? null,
        rssKib: p.rssKib ?? null,
        idleRssKib: p.idleRssKib ?? null,
        baseline: p.baselineName,
        baselineHwmKib: p.baseline ?? null,
        ratio: p.hwmKib && p.baseline ? p.hwmKib / p.baseline : null,
        ratioToBareNode: p.hwmKib && x.bareNode && p.baselineName !== "bare anvil" ? p.hwmKib / x.bareNode : null,
      })),
      totalHwmKib: x.procs.reduce((a, p) => a + (p.hwmKib ?? 0), 0),
    },
    totalSeconds: 0,
  };
}

/** Median time of each start-up phase: from one progress line of the devnet to the next. */
function phaseMedians(runs: Devnet["phases"][]): { phase: string; medianMs: number | null }[] {
  const byPhase = new Map<string, number[]>();
  for (const phases of runs) {
    let prev = { line: "spawn: node starts, loads the CLI", ms: 0 };
    for (const p of phases) {
      const list = byPhase.get(prev.line) ?? [];
      list.push(p.ms - prev.ms);
      byPhase.set(prev.line, list);
      prev = p;
    }
  }
  return [...byPhase].map(([phase, d]) => ({ phase, medianMs: round(median(d)) }));
}

type Report = ReturnType<typeof buildReport>;

function render(r: Report): string {
  const out: string[] = [];
  const { startup: su, latency: l, chain: c, memory: m } = r;
  out.push(
    `Lily benchmark: ${r.machine.cpus} cores (${r.machine.cpuModel}), Node ${r.machine.node}, ${r.params.jobs} jobs of ${r.params.module}, ${r.params.cliRuns} via lily run, ${r.params.starts} devnet start-ups; ${r.totalSeconds} s`,
  );
  out.push("Every ratio is against a baseline measured in this same run, except the reference system's published constants.");
  out.push("");
  out.push(
    table(
      ["measure", "value", "baseline", "ratio"],
      [
        [
          `devnet start-up, spawn to "is up" (median of ${su.devnetMs.length})`,
          ms(su.devnetMedianMs!),
          `bare anvil (startAnvil) ${ms(su.bareAnvilMedianMs!)}`,
          ratio(su.devnetMedianMs!, su.bareAnvilMedianMs!),
        ],
        ['  the devnet\'s own "ready in" (after node has loaded the CLI)', ms(su.devnetReportedMedianMs!), "", ""],
        [
          `job end to end, SDK in-process, p50 (n=${l.sdk.runsMs.length})`,
          ms(l.sdk.p50Ms!),
          `sandbox only ${ms(l.sandboxOnly.p50Ms!)}`,
          ratio(l.sdk.p50Ms!, l.sandboxOnly.p50Ms!),
        ],
        [`job end to end, SDK in-process, p90`, ms(l.sdk.p90Ms!), `sandbox only ${ms(l.sandboxOnly.p90Ms!)}`, ratio(l.sdk.p90Ms!, l.sandboxOnly.p90Ms!)],
        ...(l.cli
          ? [
              [
                `job end to end, \`lily run\` process, p50 (n=${l.cli.runsMs.length})`,
                ms(l.cli.p50Ms!),
                `SDK p50 ${ms(l.sdk.p50Ms!)}`,
                ratio(l.cli.p50Ms!, l.sdk.p50Ms!),
              ],
              [
                `\`lily --help\`, p50 (n=${l.cli.runsMs.length}; issue 10: at most 100 ms)`,
                ms(l.cli.helpP50Ms!),
                `bare \`node -e 0\` ${ms(l.cli.bareNodeP50Ms!)}`,
                ratio(l.cli.helpP50Ms!, l.cli.bareNodeP50Ms!),
              ],
              [
                "  CLI start-up cost (CLI p50 - SDK p50)",
                ms(l.cli.startupCostMs!),
                `\`lily --help\` alone ${ms(l.cli.helpP50Ms!)}`,
                ratio(l.cli.startupCostMs!, l.cli.helpP50Ms!),
              ],
            ]
          : []),
        [
          "transactions per job, all parties (median)",
          int(c.txsPerJob.median),
          `${REFERENCE.txs} (reference, published)`,
          ratio(c.txsPerJob.median, REFERENCE.txs),
        ],
        [
          "gas per job, all parties (median)",
          int(c.gasPerJob.median),
          `~${int(REFERENCE.gas)} (reference, published)`,
          ratio(c.gasPerJob.median, REFERENCE.gas),
        ],
        [
          `one-off deposits (approve + deposit), amortised over ${c.jobs} jobs`,
          `${c.oneOffDeposits.perJob.txs.toFixed(2)} tx, ${int(c.oneOffDeposits.perJob.gas)} gas`,
          `total ${c.oneOffDeposits.txs} tx, ${int(c.oneOffDeposits.gas)} gas`,
          "",
        ],
      ],
    ),
  );
  out.push("");
  out.push(`Devnet start-up phases (medians over ${su.devnetMs.length} start-ups; from the devnet's progress lines as they arrive):`);
  out.push(
    table(
      ["phase", "median", "of start-up"],
      su.phases.map((p) => [
        p.phase,
        ms(p.medianMs!),
        su.devnetMedianMs && p.medianMs !== null ? `${Math.round((100 * p.medianMs) / su.devnetMedianMs)}%` : "n/a",
      ]),
    ),
  );
  out.push("");
  out.push(`Where the time of one job goes (medians over ${l.sdk.runsMs.length} SDK jobs; job creator's marks + solver and provider logs):`);
  out.push(
    table(
      ["step", "who", "median", "of e2e p50"],
      l.breakdown.map((b) => [b.step, b.who, ms(b.medianMs!), l.sdk.p50Ms && b.medianMs !== null ? `${Math.round((100 * b.medianMs) / l.sdk.p50Ms)}%` : "n/a"]),
    ),
  );
  out.push("");
  out.push(
    `RSS of each devnet process idle (devnet up, before any job) and its peak (VmHWM) after the jobs (a bare node process peaks at ${mib(m.bareNodeHwmKib ?? undefined)}):`,
  );
  out.push(
    table(
      ["process", "pid", "idle RSS", "peak RSS", "RSS now", "floor (same run)", "ratio", "x bare node"],
      [
        ...m.processes.map((p) => [
          p.role,
          String(p.pid),
          mib(p.idleRssKib ?? undefined),
          mib(p.hwmKib ?? undefined),
          mib(p.rssKib ?? undefined),
          `${p.baseline} ${mib(p.baselineHwmKib ?? undefined)}`,
          p.ratio ? `${p.ratio.toFixed(2)}x` : "n/a",
          p.ratioToBareNode ? `${p.ratioToBareNode.toFixed(1)}x` : "",
        ]),
        ["total", "", "", mib(m.totalHwmKib), "", "", "", ""],
      ],
    ),
  );
  const notes: string[] = [];
  if (l.cli?.runsFromSources)
    notes.push(
      `${l.cli.runsFromSources} of ${l.cli.runsMs.length} \`lily\` runs ran the TypeScript sources, not the bundle (a source changed after \`npm run build:cli\`): the CLI figures are the sources'`,
    );
  if (c.txsPerJob.min !== c.txsPerJob.max) notes.push(`transactions per job vary: ${c.txsPerJob.min}..${c.txsPerJob.max}`);
  if (c.otherTxsWhileJobsRan.length)
    notes.push(`${c.otherTxsWhileJobsRan.length} other transaction(s) were mined while the jobs ran: ${c.otherTxsWhileJobsRan.map((t) => t.kind).join(", ")}`);
  if (c.devnetFunding.txs)
    notes.push(
      `not counted: ${c.devnetFunding.txs} devnet funding transactions from the deployer (${c.devnetFunding.kinds.join(", ")}, ${int(c.devnetFunding.gas)} gas)`,
    );
  notes.push(
    `gas per job: median ${int(c.gasPerJob.median)}, min ${int(c.gasPerJob.min)}, max ${int(c.gasPerJob.max)}; the reference's 4 tx / ~1.77 M gas is its published figure, not measured here`,
  );
  out.push("");
  for (const note of notes) out.push(`note: ${note}`);
  return out.join("\n");
}

main().then(
  (text) => process.stdout.write(`${text}\n`, () => process.exit(0)),
  async (e) => {
    await stopAll();
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    if (e?.hint) process.stderr.write(`hint: ${e.hint}\n`);
    process.exit(1);
  },
);

/** Spawn to exit of `node -e 0`, started as runLily starts `lily`. */
function timeBareNode(): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const proc = spawn(process.execPath, ["-e", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    proc.once("error", reject);
    proc.once("exit", () => resolve(performance.now() - t0));
  });
}
