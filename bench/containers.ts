// `npm run bench:containers`: what running a container module through the network costs, as
// ratios against baselines measured in this same run, on the same engine, image and input:
//   1. `docker run --rm` of the module's image alone (the CLI, with the same isolation flags);
//   2. Lily's Docker executor alone (create, start, wait, remove, /outputs checked);
//   3. the whole network: `jc.run` through a devnet on that engine (offer, match, both signatures,
//      the deal opened on chain, the container run, the result stored, committed and paid).
// Plus each built image's size. Needs Docker (DOCKER_HOST, the standard socket, or a private
// daemon it starts as root) and the images (`npm run build:images`; built here if missing).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseEther } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { DockerEngine, createDockerExecutor, findOrStartDocker, jobTaskSpec, prepareJobDirs } from "@lily/executor";
import { decryptKey } from "@lily/node-kit";
import { validateInputs } from "@lily/protocol";
import { loadContainerCatalog } from "@lily/modules";
import { buildImages } from "../modules/scripts/buildImages.ts";
import { startDevnet, stopAll } from "./devnet.ts";
import { fundEscrow, jobCreatorOn } from "./jobCreators.ts";
import { median, ms, progress, quantile, ratio, table } from "./stats.ts";

const { values } = parseArgs({ options: { jobs: { type: "string", default: "10" }, json: { type: "boolean", default: false } } });
const JOBS = Number(values.jobs);
if (!Number.isInteger(JOBS) || JOBS < 1) {
  process.stderr.write(`error: --jobs: expected an integer >= 1, got ${values.jobs}\nusage: npm run bench:containers [-- --jobs N] [--json]\n`);
  process.exit(2);
}
// Stockfish at a fixed depth: deterministic, so every run must give the same bytes.
const MODULE = "chess";
const INPUTS = { position: "r1bqkbnr/pppp1ppp/2n5/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R w KQkq - 2 3", depth: 12 };

const found = await findOrStartDocker({ home: join(tmpdir(), "lily-test-docker"), onProgress: progress });
if ("unavailable" in found) {
  process.stderr.write(`error: the container benchmark needs a Docker engine: ${found.unavailable}\n`);
  process.exit(3);
}
const engine = new DockerEngine(found.endpoint);
progress("building (or finding) the container images");
await buildImages({ engine, onProgress: progress });
const catalog = loadContainerCatalog();
const entry = catalog.find((m) => m.manifest.name === MODULE)!;
const work = mkdtempSync(join(tmpdir(), "lily-bench-containers-"));

// 1. docker run alone: the same image, command, input and isolation, through the docker CLI.
const inputs = validateInputs(entry.manifest, INPUTS);
const dockerRunMs: number[] = [];
let reference = "";
for (let i = 0; i < JOBS; i++) {
  const dirs = await prepareJobDirs(join(work, `run-${i}`), entry.manifest, inputs, async () => new Uint8Array());
  execFileSync("chmod", ["777", dirs.outputsDir]);
  const env = Object.entries(dirs.env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
  const t0 = performance.now();
  execFileSync(
    "docker",
    [
      ...["run", "--rm", "--network", "none", "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"],
      ...["--user", "65534:65534", "--memory", `${entry.manifest.resources.memoryMb}m`, "--pids-limit", "256", "--tmpfs", "/tmp"],
      ...["-v", `${dirs.inputsDir}:/inputs:ro`, "-v", `${dirs.outputsDir}:/outputs`, ...env, entry.image, ...entry.manifest.executor.command],
    ],
    { env: { ...process.env, DOCKER_HOST: found.endpoint.url }, stdio: "ignore" },
  );
  dockerRunMs.push(performance.now() - t0);
  const out = readFileSync(join(dirs.outputsDir, "analysis.json"), "utf8");
  if (i === 0) reference = out;
  else if (out !== reference) throw new Error("docker run gave different bytes on the same input: the module is not deterministic");
}
progress(`docker run alone: p50 ${ms(median(dockerRunMs))}`);

// 2. The executor alone.
const executor = createDockerExecutor({ engine });
const executorMs: number[] = [];
for (let i = 0; i < JOBS; i++) {
  const dirs = await prepareJobDirs(join(work, `exec-${i}`), entry.manifest, inputs, async () => new Uint8Array());
  const spec = jobTaskSpec(entry.manifest, { kind: "docker", image: entry.image, executor: entry.manifest.executor }, dirs, 60_000);
  const t0 = performance.now();
  const exit = await executor.wait(await executor.start(spec));
  executorMs.push(performance.now() - t0);
  if (exit.exitCode !== 0 || readFileSync(join(dirs.outputsDir, "analysis.json"), "utf8") !== reference)
    throw new Error(`executor run ${i} differs from docker run`);
}
progress(`executor alone: p50 ${ms(median(executorMs))}`);

// 3. The whole network.
progress("starting a devnet on the same engine");
const net = await startDevnet(["--docker", found.endpoint.url]);
const networkMs: number[] = [];
try {
  const key = JSON.parse(readFileSync(join(net.home, "keys", "job-creator.json"), "utf8"));
  const account = privateKeyToAccount(decryptKey(key, process.env.LILY_KEYSTORE_PASSWORD ?? "lily-devnet", "job-creator keystore"));
  const jc = jobCreatorOn(net.network, account);
  // The devnet deposited 100 LILY for the job creator; top up for long runs.
  if (JOBS > 50) await fundEscrow(net.network, [{ account, amount: parseEther(String(JOBS * 2)) }]);
  for (let i = 0; i < JOBS; i++) {
    const t0 = performance.now();
    const outDir = join(work, `net-${i}`);
    mkdirSync(outDir, { recursive: true });
    const r = await jc.run({ module: `${MODULE}@${entry.manifest.version}`, inputs: INPUTS, maxPrice: parseEther("10"), outDir });
    networkMs.push(performance.now() - t0);
    if (r.exitCode !== 0 || readFileSync(join(outDir, "analysis.json"), "utf8") !== reference) throw new Error(`network job ${i} differs from docker run`);
    progress(`network job ${i + 1}/${JOBS}: ${ms(networkMs.at(-1)!)}`);
  }
} finally {
  await stopAll();
}

const rows = [
  ["docker run --rm (baseline)", ms(median(dockerRunMs)), ms(quantile(dockerRunMs, 0.9)), "1.00x"],
  ["Lily Docker executor alone", ms(median(executorMs)), ms(quantile(executorMs, 0.9)), ratio(median(executorMs), median(dockerRunMs))],
  ["through the network (jc.run)", ms(median(networkMs)), ms(quantile(networkMs, 0.9)), ratio(median(networkMs), median(dockerRunMs))],
];
const sizes = catalog.map((m) => {
  const stamp = JSON.parse(readFileSync(join(m.archivePath, "..", m.ref, "build.json"), "utf8")) as { sizes: { imageBytes: number; rootfsBytes: number } };
  return [
    m.ref,
    `${(stamp.sizes.imageBytes / 1e6).toFixed(1)} MB`,
    `${(statSync(m.archivePath).size / 1e6).toFixed(1)} MB`,
    `${(stamp.sizes.rootfsBytes / 1e6).toFixed(0)} MB`,
  ];
});
if (values.json) {
  process.stdout.write(`${JSON.stringify({ jobs: JOBS, module: entry.ref, dockerRunMs, executorMs, networkMs, sizes }, null, 2)}\n`);
} else {
  process.stdout.write(`\n${entry.ref} (Stockfish, depth ${INPUTS.depth}), ${JOBS} jobs each, one after another\n\n`);
  process.stdout.write(`${table(["path", "p50", "p90", "p50 vs docker run"], rows)}\n\n`);
  process.stdout.write(`${table(["image", "image size", "archive", "before pruning"], sizes)}\n`);
}
