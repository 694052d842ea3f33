// Saving a running embedded anvil's chain to its state file, at a cost that stays bounded however
// long the chain grows. anvil's own `--state-interval 1` rewrote the whole chain, every block and
// transaction since genesis, every second, whether or not anything had changed. Measured on an
// idle node: 0.5% of a core with 186 blocks, 7% after 10,000 empty blocks (under 3 hours of the
// devnet's empty block a second), 15% after 33,000, 43% with 4,000 transactions (about 2,000
// jobs), and still growing. Here a save is made only once the head moved, and after a save that
// took d ms the next waits at least d / SAVE_BUDGET, so saving takes at most that share of the
// time (`npm run bench:chain-save`: 15.8% -> 2.2% of a core with 20,000 blocks and 2,000
// transfers; on a new chain it costs more than anvil's own, 1.1% against 0.2%, since a save goes
// through anvil_dumpState, gzipped). A node killed outright loses the blocks since the last save
// (a second on a young chain, more on an old one); a graceful stop has anvil write its final
// state itself. A save is written aside and renamed over the file, so a crash mid-write leaves
// the previous save whole.
import { rename, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { LilyError } from "@lily/protocol";
import { anvilRpc } from "./anvilRpc.ts";

/** The most of its time the saver spends saving (1/50: 2%). */
export const SAVE_BUDGET = 1 / 50;
/** The soonest a save follows the previous one, ms: what `--state-interval 1` gave. */
export const MIN_SAVE_INTERVAL_MS = 1_000;

/** A node that does not answer in this long fails the save (a stop waits for a save under way). */
const RPC_TIMEOUT_MS = 60_000;

const gunzipAsync = promisify(gunzip);

/** How long to wait after a save that took `costMs`, so that saving stays within SAVE_BUDGET. */
export function nextSaveDelayMs(costMs: number, minMs = MIN_SAVE_INTERVAL_MS): number {
  return Math.max(minMs, Math.ceil(costMs / SAVE_BUDGET));
}

export interface StateSaver {
  /** Saves written so far (for tests and logs). */
  readonly saves: number;
  /** Stop saving; resolves once a save under way has been written (or failed). */
  stop(): Promise<void>;
}

export interface StateSaverOptions {
  /** Checks the head this often, ms (default MIN_SAVE_INTERVAL_MS). */
  minIntervalMs?: number;
  /** A save that failed (the node away, the disk full). The saver goes on; the previous save stays whole. */
  onError(err: LilyError): void;
}

/**
 * Write `bytes` to `path` whole or not at all, whenever this process or the node dies: aside, then
 * renamed over it. (Not fsync'd: a save a second would be a disk flush a second, for the case of
 * the machine itself going down, which the devnet does not promise to survive.)
 */
async function writeWhole(path: string, bytes: Uint8Array): Promise<void> {
  const aside = `${path}.saving`;
  await writeFile(aside, bytes);
  await rename(aside, path);
}

/** Save the chain of the anvil at `rpcUrl` to `statePath` (the file its `--state` loads) while it runs. */
export function startStateSaver(rpcUrl: string, statePath: string, opts: StateSaverOptions): StateSaver {
  const minMs = opts.minIntervalMs ?? MIN_SAVE_INTERVAL_MS;
  let savedHead: string | undefined;
  let saves = 0;
  let stopped = false;
  let failing = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const saveIfMoved = async (): Promise<number> => {
    const head = String(await anvilRpc(rpcUrl, "eth_blockNumber", [], AbortSignal.timeout(RPC_TIMEOUT_MS)));
    if (head === savedHead) return minMs;
    const started = performance.now();
    // anvil_dumpState answers the same state its `--state` writes, gzipped and hex-encoded.
    const dump = String(await anvilRpc(rpcUrl, "anvil_dumpState", [], AbortSignal.timeout(RPC_TIMEOUT_MS)));
    const json = await gunzipAsync(Buffer.from(dump.slice(2), "hex"));
    if (stopped) return minMs; // the node is stopping and writes its final state itself
    await writeWhole(statePath, json);
    savedHead = head;
    saves++;
    return nextSaveDelayMs(performance.now() - started, minMs);
  };

  const tick = async (): Promise<void> => {
    let delayMs = minMs;
    try {
      delayMs = await saveIfMoved();
      failing = false;
    } catch (e) {
      // Reported once per run of failures: a node that is away fails every check until it is back.
      if (!failing && !stopped) {
        opts.onError(
          new LilyError({ code: "UNREACHABLE", field: "statePath", message: `could not save the chain to ${statePath}: ${(e as Error).message}`, cause: e }),
        );
      }
      failing = true;
    }
    if (!stopped) schedule(delayMs);
  };
  const schedule = (delayMs: number) => {
    timer = setTimeout(() => {
      running = tick();
    }, delayMs).unref();
  };
  schedule(minMs);

  return {
    get saves() {
      return saves;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
