// The network the chaos test abuses: its own anvil (so the test can stop and restart the chain
// node on the same port and state file), a `lily devnet --rpc-url` against it, and the means to
// SIGKILL a role and start it again as an operator would: the same `lily` arguments the devnet
// gave it (devnet.json), on the port it listened on, appending to the same log. With
// `trustDeals`, the devnet routes trust deals to LilyTrustDeals (`lily devnet --trust-deals`).
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { devAccounts, startAnvil, type Anvil } from "@lily/chain";
import { LILY, startDevnet, tempHome, type Devnet } from "../e2e/lilyProcess.ts";
import { random } from "../../modules/scripts/tinyModel.ts";

/** A small deterministic PRNG (mulberry32): the same seed replays the same kill schedule. */
export const prng = random;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface ChaosNet {
  net: Devnet;
  home: string;
  rpcUrl: string;
  /** Roles that can be killed: the solver, the providers, the mediators. */
  victims: string[];
  /** SIGKILL a role, wait `downMs`, start it again and wait until it says it is ready. */
  killAndRestart(role: string, downMs: number): Promise<void>;
  /** Stop the chain node gracefully (its state saved), keep it away for `downMs`, start it again. */
  restartChain(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startChaosNet(providers: number, opts: { trustDeals?: boolean } = {}): Promise<ChaosNet> {
  const home = tempHome();
  const statePath = join(home, "chaos-chain", "anvil-state.json");
  // One block a second besides automining, like the embedded chain, so audit draws resolve.
  let anvil: Anvil = await startAnvil({ statePath, blockTimeSeconds: 1 });
  const rpcUrl = anvil.rpcUrl;
  const port = Number(new URL(rpcUrl).port);
  const flags = ["--rpc-url", rpcUrl, "--deployer-key", devAccounts[0]!, "--providers", String(providers), "--sign-window", "10"];
  const net = await startDevnet(opts.trustDeals ? [...flags, "--trust-deals"] : flags, home).catch(async (e) => {
    await anvil.stop(); // else the node outlives the failed test and keeps its process alive
    throw e;
  });

  const pids = new Map<string, number>(Object.entries(net.state.roles).map(([name, r]) => [name, r.pid]));
  const mine = new Map<string, ChildProcess>();
  const victims = Object.keys(net.state.roles).filter((r) => r === "solver" || /^provider-\d+$/.test(r) || /^mediator-\d+$/.test(r));

  async function start(role: string): Promise<void> {
    const r = net.state.roles[role]!;
    const args = [...r.args];
    const portAt = args.indexOf("--port");
    // The devnet asked for any free port; the others found this role at the one it got.
    if (portAt >= 0 && r.url) args[portAt + 1] = new URL(r.url).port;
    const log = createWriteStream(r.log, { flags: "a" });
    const proc = spawn(process.execPath, [LILY, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LILY_LOG_LEVEL: "warn" } });
    mine.set(role, proc);
    pids.set(role, proc.pid!);
    proc.stderr!.pipe(log);
    let out = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${role} not ready 60 s after its restart:\n${out}`)), 60_000);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`${role} exited with ${code} on restart:\n${out}`));
      };
      proc.stdout!.on("data", (d) => {
        out += d;
        log.write(d);
        if (out.includes("ready")) {
          clearTimeout(timer);
          proc.off("exit", onExit);
          resolve();
        }
      });
      proc.stderr!.on("data", (d) => (out = (out + d).slice(-4000)));
      proc.once("exit", onExit);
    });
  }

  return {
    net,
    home,
    rpcUrl,
    victims,
    async killAndRestart(role, downMs) {
      const pid = pids.get(role)!;
      const proc = mine.get(role);
      const exited = proc ? new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once("exit", r))) : undefined;
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone: it crashed on its own, which the restart below covers too.
      }
      await exited;
      await sleep(downMs);
      await start(role);
    },
    async restartChain(downMs) {
      await anvil.stop();
      await sleep(downMs);
      anvil = await startAnvil({ port, statePath, blockTimeSeconds: 1, startTimeoutMs: 30_000 });
    },
    async stop() {
      for (const p of mine.values()) if (p.exitCode === null) p.kill("SIGTERM");
      await Promise.all([...mine.values()].map((p) => (p.exitCode !== null || p.signalCode !== null ? undefined : new Promise((r) => p.once("exit", r)))));
      await net.stop();
      await anvil.stop();
    },
  };
}
