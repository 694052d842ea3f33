// `npm run bench:idle`: resident memory of every idle role (issue 10's target: each under 80 MiB).
// It starts a devnet (`lily devnet`, every port 0, no container engine) and, in the same run and
// with the same V8 flags and malloc settings the devnet gives its roles, a bare Node process that
// only waits; once the devnet is up it leaves everything alone, then samples /proc a few times and
// prints each role's median RSS against the bare process's (RssAnon: heaps and malloc; RssFile:
// pages of the node binary it has touched, shared between processes), and the CPU each has used
// so far (what start-up cost, to weigh a flag's memory against). `--runs N` starts N devnets, one
// after another, and reports medians over them. Progress on stderr, the table on stdout. Which code
// each devnet ran is checked, not assumed: an edit to any bundled source while the bench runs makes
// later devnets run the sources, and the table says so. `--cold-cache` gives each devnet an empty
// compile cache of its own, as the first devnet after an install or a Node upgrade has; otherwise
// the roles use the user's cache, which every devnet but the first after a build finds warm.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
// @ts-expect-error: plain JS without types, shared with bin/lily.js
import { currentBundle } from "../packages/cli/bin/currentBundle.js";
import { ROLE_ENV, ROLE_EXEC_ARGV } from "../packages/cli/src/devnet/supervisor.ts";
import { LILY, type DevnetJson } from "./devnet.ts";
import { countOption, median, progress, ratio, table } from "./stats.ts";
import { procStat } from "./threadCpu.ts";

const USAGE = `usage: npm run bench:idle [-- --runs N] [--settle S] [--samples K] [--providers P] [--json]
  --runs N       devnets started one after another; figures are medians over them (default 3)
  --settle S     seconds each devnet is left alone after it is up before sampling (default 10)
  --samples K    RSS samples, one a second, after settling; the median is kept (default 5)
  --providers P  providers in the devnet (default 1)
  --node-flags=F node flags for the devnet, which its roles inherit, and for the bare process
                 (e.g. "--v8-pool-size=2"), to weigh a flag before it goes into ROLE_EXEC_ARGV
  --lily=PATH    the \`lily\` entry to start (default packages/cli/bin/lily.js), e.g. another build
  --cold-cache   each devnet starts with an empty Node compile cache (NODE_COMPILE_CACHE set to a
                 new temporary folder): the first devnet after an install, not the ones after it
  --json         print the numbers as JSON instead of the table
LILY_FROM_SOURCE=1 measures the TypeScript sources instead of the bundle.`;

/** The issue's target for an idle role, in KiB. */
const TARGET_KIB = 80 * 1024;

interface Mem {
  rss: number;
  anon: number;
  file: number;
  /** CPU time used so far (user + system), ms: what start-up cost, to weigh a flag's memory against. */
  cpuMs: number;
}

/** VmRSS, RssAnon and RssFile (KiB) and CPU time of a live process; undefined once it is gone. */
function statusMem(pid: number): Mem | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, "utf8");
    const f = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(s)?.[1] ?? Number.NaN);
    const cpuMs = procStat(`/proc/${pid}/stat`)[1] * 1000;
    const m = { rss: f("VmRSS"), anon: f("RssAnon"), file: f("RssFile") + f("RssShmem"), cpuMs };
    return Number.isFinite(m.rss) ? m : undefined;
  } catch {
    return undefined;
  }
}

function options() {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "3" },
      settle: { type: "string", default: "10" },
      samples: { type: "string", default: "5" },
      providers: { type: "string", default: "1" },
      "node-flags": { type: "string", default: "" },
      lily: { type: "string", default: LILY },
      "cold-cache": { type: "boolean", default: false },
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
    runs: count("runs", values.runs, 1),
    settleMs: count("settle", values.settle, 0) * 1000,
    samples: count("samples", values.samples, 1),
    providers: count("providers", values.providers, 1),
    nodeFlags: values["node-flags"].split(/\s+/).filter(Boolean),
    lily: values.lily,
    coldCache: values["cold-cache"],
    json: values.json,
  };
}

/** The glibc malloc settings a role gets: the supervisor's, unless this environment sets its own. */
const roleMalloc = () =>
  Object.entries({ ...ROLE_ENV, ...process.env })
    .filter(([k]) => k.startsWith("MALLOC_"))
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");

/**
 * Which code the roles run now: bin/lily.js runs the bundle only while it is current (every source
 * it was built from unchanged), the sources otherwise or under LILY_FROM_SOURCE=1.
 */
const codeNow = (lily: string) =>
  lily !== LILY
    ? `entry ${lily}`
    : process.env.LILY_FROM_SOURCE === "1"
      ? "the TypeScript sources, as LILY_FROM_SOURCE=1 asks"
      : currentBundle()
        ? "the CLI bundle in packages/cli/dist"
        : "the TypeScript sources, the bundle being stale (`npm run build:cli` rebuilds it)";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `lily devnet` in a temporary home, every port 0, no container engine; resolves once it is up. */
async function startDevnet(opts: ReturnType<typeof options>): Promise<{ state: DevnetJson; upMs: number; stop(): Promise<void> }> {
  const home = mkdtempSync(join(tmpdir(), "lily-idle-"));
  // Inside the home, so it goes with it; set in the environment, Node enables the cache before
  // bin/lily.js runs, in that folder, and the shim's enableCompileCache() keeps it.
  const cache = opts.coldCache ? { NODE_COMPILE_CACHE: join(home, "compile-cache") } : {};
  const args = ["--home", home, "devnet", "--chain-port", "0", "--solver-port", "0", "--store-port", "0", "--gateway-port", "0", "--docker", "off"];
  const t0 = performance.now();
  const proc = spawn(process.execPath, [...opts.nodeFlags, opts.lily, ...args, "--providers", String(opts.providers)], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...cache, LILY_LOG_LEVEL: "warn" },
  });
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    await exited;
    rmSync(home, { recursive: true, force: true });
  };
  stopping.add(stop);
  let out = "";
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`devnet not up after 120 s:\n${out}`)), 120_000);
      const onData = (d: string) => {
        out += d;
        if (out.includes("Lily devnet is up")) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout!.setEncoding("utf8").on("data", onData);
      proc.stderr!.setEncoding("utf8").on("data", onData);
      proc.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`devnet exited with ${code} before it was up:\n${out}`));
      });
    });
  } catch (e) {
    await stop();
    throw e;
  }
  const state = JSON.parse(readFileSync(join(home, "devnet.json"), "utf8")) as DevnetJson;
  return { state, upMs: performance.now() - t0, stop };
}

/** What to stop on Ctrl-C or a failure. */
const stopping = new Set<() => Promise<void>>();
const stopAll = () => Promise.all([...stopping].map((s) => s()));

/** One devnet plus one bare node: per process name, the median of `samples` readings. */
async function oneRun(opts: ReturnType<typeof options>, code: string[]): Promise<Map<string, Mem>> {
  // The bare process gets what a role gets from the supervisor: its V8 flags and malloc settings.
  const bare = spawn(process.execPath, [...opts.nodeFlags, ...ROLE_EXEC_ARGV, "-e", "setInterval(() => {}, 1 << 30)"], {
    stdio: "ignore",
    env: { ...ROLE_ENV, ...process.env },
  });
  try {
    // Checked before and once every role is up: an edit in between means some roles ran one, some the other.
    const before = codeNow(opts.lily);
    const net = await startDevnet(opts);
    const after = codeNow(opts.lily);
    code.push(before === after ? before : `${before} for some roles, ${after} for others`);
    try {
      progress(`devnet up in ${(net.upMs / 1000).toFixed(1)} s; idle for ${opts.settleMs / 1000} s`);
      await sleep(opts.settleMs);
      const pids = new Map<string, number>([
        ["bare node", bare.pid!],
        ...Object.entries(net.state.roles).map(([name, r]) => [name, r.pid] as [string, number]),
      ]);
      const samples = new Map<string, Mem[]>();
      for (let i = 0; i < opts.samples; i++) {
        if (i > 0) await sleep(1000);
        for (const [name, pid] of pids) {
          const m = statusMem(pid);
          if (m) samples.set(name, [...(samples.get(name) ?? []), m]);
        }
      }
      return new Map(
        [...samples].map(([name, ms]) => [
          name,
          { rss: median(ms.map((m) => m.rss)), anon: median(ms.map((m) => m.anon)), file: median(ms.map((m) => m.file)), cpuMs: ms.at(-1)!.cpuMs },
        ]),
      );
    } finally {
      await net.stop();
    }
  } finally {
    bare.kill();
  }
}

async function main() {
  const opts = options();
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => void stopAll().finally(() => process.exit(130)));
  const runs: Map<string, Mem>[] = [];
  const code: string[] = [];
  for (let i = 0; i < opts.runs; i++) {
    progress(`run ${i + 1}/${opts.runs}: starting a devnet (${codeNow(opts.lily)})`);
    runs.push(await oneRun(opts, code));
  }
  // One line when every run ran the same code, else which run ran what.
  const mode = new Set(code).size === 1 ? code[0]! : `MIXED, not comparable: ${code.map((c, i) => `run ${i + 1} ${c}`).join("; ")}`;
  const names = [...new Set(runs.flatMap((r) => [...r.keys()]))];
  const med = (name: string, k: keyof Mem) => median(runs.map((r) => r.get(name)?.[k]).filter((v): v is number => v !== undefined));
  const rows = names.map((name) => ({ name, rss: med(name, "rss"), anon: med(name, "anon"), file: med(name, "file"), cpuMs: med(name, "cpuMs") }));
  const bare = rows.find((r) => r.name === "bare node")!;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ runs: opts.runs, code: mode, coldCache: opts.coldCache, targetKib: TARGET_KIB, processes: rows }, null, 2)}\n`);
    return;
  }
  const mib = (kib: number) => (Number.isFinite(kib) ? `${(kib / 1024).toFixed(1)} MiB` : "n/a");
  process.stdout.write(
    `Idle RSS per role: median over ${opts.runs} run(s) of ${opts.samples} samples, ${opts.settleMs / 1000} s after the devnet was up (${mode}; ` +
      `${opts.coldCache ? "each devnet with an empty compile cache" : "the user's compile cache, warm unless this is the first devnet since a build"}).\n` +
      `Role processes run with ${[...opts.nodeFlags, ...ROLE_EXEC_ARGV].join(" ")} ${roleMalloc()}; so does the bare node process.\n`,
  );
  process.stdout.write(
    `${table(
      ["process", "RSS", "anon", "file", "over bare", "x bare node", "target 80 MiB", "CPU so far"],
      rows.map((r) => [
        r.name,
        mib(r.rss),
        mib(r.anon),
        mib(r.file),
        r === bare ? "" : mib(r.rss - bare.rss),
        ratio(r.rss, bare.rss),
        r === bare ? "" : r.rss <= TARGET_KIB ? "met" : `+${mib(r.rss - TARGET_KIB)}`,
        `${Math.round(r.cpuMs)} ms`,
      ]),
    )}\n`,
  );
}

main().catch(async (e) => {
  await stopAll();
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
