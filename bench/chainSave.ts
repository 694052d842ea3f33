// `npm run bench:chain-save`: what keeping the embedded chain saved costs on a quiet devnet, by
// the length of its history. The baseline is anvil saving itself (`--state-interval 1`, what
// `lily devnet` ran before: the whole chain rewritten every second); against it, startAnvil's
// saver (packages/chain/src/anvilStateSaver.ts), whose CPU (in this process) counts with the
// node's. Both nodes mine an empty block a second, as the devnet's does, from copies of the same
// saved chain: `--blocks` empty blocks and `--txs` transfers on top of the deployment-free genesis.
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { gunzip } from "node:zlib";
import { PERSISTED_STATES, anvilBinary, anvilRpc, startAnvil } from "@lily/chain";
import { countOption, progress, table } from "./stats.ts";
import { procStat } from "./threadCpu.ts";

const USAGE = `usage: node bench/chainSave.ts [--blocks N] [--txs N] [--seconds S]
  --blocks N    empty blocks in the long history (default 20000, about 5.5 hours of a quiet devnet)
  --txs N       transfers in the long history (default 2000, about 1000 jobs' worth)
  --seconds S   how long each node's CPU is measured (default 15)`;

const { values } = parseArgs({
  options: {
    blocks: { type: "string", default: "20000" },
    txs: { type: "string", default: "2000" },
    seconds: { type: "string", default: "15" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const count = countOption(USAGE);
const blocks = count("blocks", values.blocks, 0);
const txs = count("txs", values.txs, 0);
const seconds = count("seconds", values.seconds, 1);

const dir = mkdtempSync(join(tmpdir(), "lily-chain-save-"));
const FROM = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"; // anvil's first dev account, unlocked on the node
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A saved chain with `nBlocks` empty blocks and `nTxs` transfers, as the file `--state` loads. */
async function history(nBlocks: number, nTxs: number): Promise<string> {
  const node = await startAnvil();
  try {
    if (nBlocks > 0) await anvilRpc(node.rpcUrl, "anvil_mine", [`0x${nBlocks.toString(16)}`]);
    for (let i = 0; i < nTxs; i++)
      await anvilRpc(node.rpcUrl, "eth_sendTransaction", [{ from: FROM, to: "0x000000000000000000000000000000000000dEaD", value: "0x1" }]);
    const dump = String(await anvilRpc(node.rpcUrl, "anvil_dumpState"));
    const path = join(dir, `history-${nBlocks}-${nTxs}.json`);
    writeFileSync(path, await promisify(gunzip)(Buffer.from(dump.slice(2), "hex")));
    return path;
  } finally {
    await node.stop();
  }
}

const cpuOf = (pid: number) => procStat(`/proc/${pid}/stat`)[1];
const ownCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** CPU seconds per second (share of one core) of `pid` plus this process over the window, after start-up settles. */
async function measure(pid: number): Promise<number> {
  await sleep(3_000); // loading a long chain, the first save
  const [node0, own0, t0] = [cpuOf(pid), ownCpu(), performance.now()];
  await sleep(seconds * 1000);
  return (cpuOf(pid) - node0 + ownCpu() - own0) / ((performance.now() - t0) / 1000);
}

/** The baseline: anvil saving its own state every second. */
async function selfSaving(state: string): Promise<number> {
  // Past states kept as startAnvil keeps them (and in this run's folder), so only saving differs.
  const states = ["--cache-path", join(dir, "cache"), "--max-persisted-states", String(PERSISTED_STATES)];
  const child = spawn(anvilBinary(), ["--port", "0", "--block-time", "1", "--mixed-mining", "--state", state, "--state-interval", "1", ...states], {
    stdio: "ignore",
  });
  try {
    return await measure(child.pid!);
  } finally {
    child.kill("SIGKILL");
  }
}

async function withSaver(state: string): Promise<number> {
  const node = await startAnvil({ statePath: state, blockTimeSeconds: 1 });
  try {
    return await measure(node.pid);
  } finally {
    await node.stop();
  }
}

const rows: string[][] = [];
for (const [nBlocks, nTxs] of [
  [0, 0],
  [blocks, txs],
]) {
  progress(`building a chain of ${nBlocks} empty blocks and ${nTxs} transfers`);
  const saved = await history(nBlocks!, nTxs!);
  const mb = (statSync(saved).size / 1e6).toFixed(1);
  progress(`measuring anvil --state-interval 1 on it (${mb} MB saved), ${seconds} s`);
  copyFileSync(saved, join(dir, "a.json"));
  const base = await selfSaving(join(dir, "a.json"));
  progress(`measuring startAnvil's saver on it, ${seconds} s`);
  copyFileSync(saved, join(dir, "b.json"));
  const saver = await withSaver(join(dir, "b.json"));
  rows.push([
    `${nBlocks.toLocaleString("en")} empty blocks, ${nTxs.toLocaleString("en")} transfers`,
    `${mb} MB`,
    `${(base * 100).toFixed(1)}%`,
    `${(saver * 100).toFixed(1)}%`,
    `${(saver / base).toFixed(2)}x`,
  ]);
}
rmSync(dir, { recursive: true, force: true });

process.stdout.write("Keeping the embedded chain saved on a quiet devnet (an empty block a second): CPU, as a share of one core\n\n");
process.stdout.write(`${table(["history", "saved chain", "anvil --state-interval 1 (baseline)", "startAnvil's saver", "vs baseline"], rows)}\n`);
