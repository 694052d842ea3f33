// `npm run bench:transfer`: the CPU one cowsay-sized result costs to store and fetch back, with a
// real store in this process (its CPU and the client's both count): the per-block way (a PUT per
// output file and one for the manifest; a GET for the manifest, then one per file) as the
// baseline, against one CAR each way (StoreClient.putResult, downloadResult). Both write the
// files they fetch. The two alternate in rounds so a change in the machine's speed hits both.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { parseArgs } from "node:util";
import { createLogger } from "@lily/node-kit";
import { cidForBytes, type ResultManifest } from "@lily/protocol";
import { startStore, StoreClient, defaultStoreOptions } from "@lily/store";
import { countOption, progress, table } from "./stats.ts";

const USAGE = `usage: node bench/resultTransfer.ts [--rounds R] [--per-round N]
  --rounds R      rounds, each N results the per-block way then N as CARs (default 10)
  --per-round N   results per way per round (default 100)`;

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "10" },
    "per-round": { type: "string", default: "100" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const count = countOption(USAGE);
const rounds = count("rounds", values.rounds, 1);
const perRound = count("per-round", values["per-round"], 1);

const dir = mkdtempSync(join(tmpdir(), "lily-transfer-"));
const server = await startStore({ ...defaultStoreOptions, dataDir: join(dir, "blocks") }, { logger: createLogger({ module: "store", level: "error" }) });
const store = new StoreClient(server.url);
const job = { module: cidForBytes(new TextEncoder().encode("module")), inputs: cidForBytes(new TextEncoder().encode("inputs")), exitCode: 0 };

let n = 0;
/** A job's outputs as cowsay leaves them: a few lines of stdout, an empty stderr. */
function outputs(): string {
  const out = join(dir, `out-${n++}`);
  mkdirSync(out);
  writeFileSync(
    join(out, "stdout"),
    ` ${"_".repeat(12)}\n< moo ${String(n).padStart(6)} >\n ${"-".repeat(12)}\n        \\   ^__^\n         \\  (oo)\\_______\n`,
  );
  writeFileSync(join(out, "stderr"), "");
  return out;
}

async function perBlock(): Promise<void> {
  const out = outputs();
  const resultCid = await store.putRecord({ ...job, files: await store.putDirectory(out) } satisfies ResultManifest);
  const manifest = await store.getRecord<ResultManifest>(resultCid);
  const dest = join(out, "down");
  mkdirSync(dest);
  for (const [name, cid] of Object.entries(manifest.files)) writeFileSync(join(dest, name), await store.getBytes(cid));
}

async function asCar(): Promise<void> {
  const out = outputs();
  await store.downloadResult(await store.putResult(out, job), join(out, "down"));
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const ways = [
  ["per block (baseline)", perBlock],
  ["one CAR each way", asCar],
] as const;
const spent = ways.map(() => 0);
const wall = ways.map(() => 0);
progress("warming up");
for (let i = 0; i < perRound; i++) for (const [, f] of ways) await f();
for (let r = 0; r < rounds; r++) {
  progress(`round ${r + 1}/${rounds}`);
  for (const [i, [, f]] of ways.entries()) {
    const c0 = cpuMs();
    const t0 = performance.now();
    for (let k = 0; k < perRound; k++) await f();
    spent[i]! += cpuMs() - c0;
    wall[i]! += performance.now() - t0;
  }
}
await server.close();
rmSync(dir, { recursive: true, force: true });

const results = rounds * perRound;
process.stdout.write(`Result transfer: a cowsay result (stdout, empty stderr, manifest) stored and fetched back, ${results} times each way\n\n`);
process.stdout.write(
  `${table(
    ["way", "requests", "CPU ms/result", "wall ms/result", "CPU vs baseline"],
    ways.map(([name], i) => [
      name,
      i === 0 ? "3 up, 3 down" : "1 up, 1 down",
      (spent[i]! / results).toFixed(2),
      (wall[i]! / results).toFixed(2),
      `${(spent[i]! / spent[0]!).toFixed(2)}x`,
    ]),
  )}\n`,
);
