// The embedded devnet: anvil (Foundry's EVM node) as a child process on loopback. It is a real
// JSON-RPC node, so everything that works here works against any EVM endpoint. The binary comes
// from the @foundry-rs/anvil npm package, not from PATH.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import type { Readable } from "node:stream";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Hex } from "viem";
import { LilyError } from "@lily/protocol";
import { anvilRpc } from "./anvilRpc.ts";
import { startStateSaver, type StateSaver } from "./anvilStateSaver.ts";

export interface AnvilOptions {
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /**
   * Persist the chain here: loaded at start if it exists, saved on stop, and saved while it runs
   * whenever it moved, at most every second and within 2% of the time (anvilStateSaver.ts).
   */
  statePath?: string;
  /** A save while running failed (the previous one stays whole); default: a process warning. */
  onStateSaveError?: (err: LilyError) => void;
  /** Defaults to 31337, anvil's own default. */
  chainId?: number;
  /** How long to wait for the node to answer JSON-RPC; default 15 s. */
  startTimeoutMs?: number;
  /**
   * Also mine an empty block every N seconds (`--block-time N --mixed-mining`): transactions
   * still mine at once, but the chain keeps moving on a quiet devnet, so draws that wait for a
   * future block (audit, mediator) resolve without anyone sending a transaction. Off by default.
   */
  blockTimeSeconds?: number;
}

export interface Anvil {
  rpcUrl: string;
  chainId: number;
  pid: number;
  /** Where the node writes the states of past blocks (at most PERSISTED_STATES); removed once it exits. */
  cacheDir: string;
  /** Stop the node (saving its state when `statePath` was given) and wait for it to exit. */
  stop(): Promise<void>;
}

/** How many past blocks' states the node keeps on disk, beyond those it holds in memory. */
export const PERSISTED_STATES = 16;

/** Private keys of anvil's first five dev accounts (the standard "test test ... junk" mnemonic). Devnet only. */
export const devAccounts: readonly Hex[] = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
  "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
];

const platformPackage: Record<string, Record<string, string> | undefined> = {
  linux: { x64: "linux-amd64", arm64: "linux-arm64" },
  darwin: { x64: "darwin-amd64", arm64: "darwin-arm64" },
  win32: { x64: "win32-amd64" },
};

/** The anvil binary shipped by @foundry-rs/anvil for this platform. */
export function anvilBinary(): string {
  const suffix = platformPackage[process.platform]?.[process.arch];
  if (!suffix) {
    throw new LilyError({ code: "CONFIG", message: `anvil has no build for ${process.platform}/${process.arch}` });
  }
  const fromAnvil = createRequire(createRequire(import.meta.url).resolve("@foundry-rs/anvil/package.json"));
  const pkg = dirname(fromAnvil.resolve(`@foundry-rs/anvil-${suffix}/package.json`));
  return join(pkg, "bin", process.platform === "win32" ? "anvil.exe" : "anvil");
}

/** Start anvil and resolve once it answers JSON-RPC. */
export async function startAnvil(opts: AnvilOptions = {}): Promise<Anvil> {
  const chainId = opts.chainId ?? 31337;
  const args = ["--host", "127.0.0.1", "--port", String(opts.port ?? 0), "--chain-id", String(chainId)];
  if (opts.blockTimeSeconds !== undefined) {
    if (!(opts.blockTimeSeconds > 0)) {
      throw new LilyError({ code: "CONFIG", field: "blockTimeSeconds", message: `blockTimeSeconds must be positive, got ${opts.blockTimeSeconds}` });
    }
    args.push("--block-time", String(opts.blockTimeSeconds), "--mixed-mining");
  }
  if (opts.statePath) {
    mkdirSync(dirname(opts.statePath), { recursive: true });
    // No --state-interval: anvil would rewrite the whole chain every interval (the saver below instead).
    args.push("--state", opts.statePath);
  }

  // anvil keeps the state of every block: the latest in memory, older ones written to a cache
  // folder, by default ~/.foundry/anvil/tmp, with no bound and left behind when the node exits
  // (SIGTERM included): 224 KB a block on an empty chain, about 0.8 GB an hour of the devnet's
  // empty block a second; 50 GB of them had filled this machine's disk. Only recent states are
  // ever read (confirm.ts replays a reverted transaction on its block's parent), so a few are kept,
  // in a folder of this node's own, removed when it exits. (With 0 it keeps them all in memory.)
  const cacheDir = mkdtempSync(join(tmpdir(), "lily-anvil-cache-"));
  args.push("--cache-path", cacheDir, "--max-persisted-states", String(PERSISTED_STATES));

  const child = spawn(anvilBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr = (stderr + s).slice(-2000)));
  const removeCache = () => rmSync(cacheDir, { recursive: true, force: true });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve())).then(removeCache);
  const killOnExit = () => {
    child.kill("SIGKILL");
    removeCache();
  };
  process.once("exit", killOnExit);

  const fail = (message: string) => {
    killOnExit(); // and its cache folder: a node that never started may never report its exit
    process.off("exit", killOnExit);
    return new LilyError({ code: "CONFIG", message, details: { args, stderr: stderr.trim() } });
  };

  const timeoutMs = opts.startTimeoutMs ?? 15_000;
  const port = await waitForListening(child, timeoutMs).catch((e: Error) => {
    throw fail(e.message);
  });
  const rpcUrl = `http://127.0.0.1:${port}`;
  await waitForRpc(rpcUrl, timeoutMs).catch((e) => {
    throw fail(`anvil listens on ${rpcUrl} but does not answer: ${(e as Error).message}`);
  });
  const statePath = opts.statePath;
  const saver: StateSaver | undefined =
    statePath === undefined
      ? undefined
      : startStateSaver(rpcUrl, statePath, {
          onError: opts.onStateSaveError ?? ((err) => process.emitWarning(err.message, { code: "LILY_CHAIN_SAVE" })),
        });
  // A node that died has nothing left to save (and its last save stays as it was).
  void exited.then(() => saver?.stop());

  return {
    rpcUrl,
    chainId,
    pid: child.pid!,
    cacheDir,
    async stop() {
      process.off("exit", killOnExit);
      // A save under way is written before the node writes its final state, never after it.
      await saver?.stop();
      if (child.exitCode !== null || child.signalCode !== null) return;
      // anvil saves --state on SIGTERM, but a block it mines while it writes can land in the saved
      // state and not in the saved blocks: restarted, the node holds a transaction's effects and
      // knows neither the transaction nor its logs (measured: 23 of 30 restarts under a stream of
      // transactions). Mining stops first, so the last block is whole in both; a transaction sent
      // meanwhile stays unmined and is lost with the pool, as on any node that stops.
      if (opts.statePath) await stopMining(rpcUrl);
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** How long a stopping node is given to finish a block it began before its mining was turned off. */
const SETTLE_MS = 200;

/** Turn off anvil's automine and interval mining; a node that does not answer is left to the SIGTERM. */
async function stopMining(rpcUrl: string): Promise<void> {
  for (const [method, params] of [
    ["evm_setAutomine", [false]],
    ["evm_setIntervalMining", [0]],
  ] as const) {
    await anvilRpc(rpcUrl, method, params, AbortSignal.timeout(2_000)).catch(() => undefined);
  }
  // A block begun before mining stopped (a transaction that came in just before) finishes first.
  await new Promise((r) => setTimeout(r, SETTLE_MS));
}

/**
 * anvil prints "Listening on 127.0.0.1:PORT" once bound; that is how a free port is learned.
 * Its stdout stays drained afterwards (it logs every request) so the pipe never fills up.
 */
function waitForListening(child: ChildProcessByStdio<null, Readable, Readable>, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = "";
    const done = (err: Error | undefined, port?: number) => {
      clearTimeout(timer);
      child.stdout.off("data", onData);
      child.off("error", onError);
      child.off("exit", onExit);
      child.stdout.resume();
      if (err) reject(err);
      else resolve(port!);
    };
    const onData = (s: string) => {
      out += s;
      const m = /Listening on [\d.]+:(\d+)/.exec(out);
      if (m) done(undefined, Number(m[1]));
    };
    const onError = (e: Error) => done(new Error(`cannot run anvil: ${e.message}`));
    const onExit = (code: number | null) => done(new Error(`anvil exited with code ${code} before listening`));
    const timer = setTimeout(() => done(new Error(`anvil did not start within ${timeoutMs} ms`)), timeoutMs);
    child.stdout.setEncoding("utf8").on("data", onData);
    child.once("error", onError);
    child.once("exit", onExit);
  });
}

async function waitForRpc(rpcUrl: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await anvilRpc(rpcUrl, "eth_chainId");
      return;
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
