// devnet.json: what the running devnet started (pids, urls, addresses, logs), for people and tests.
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface DevnetRole {
  pid: number;
  url?: string;
  address?: string;
  log: string;
  /** The `lily` arguments it was started with, so an operator (or a test) can restart it as it was. */
  args: string[];
}

export interface DevnetState {
  pid: number;
  chain: { rpcUrl: string; embedded: boolean; pid?: number };
  roles: Record<string, DevnetRole>;
  jobCreator: string;
}

export function writeDevnetState(home: string, state: DevnetState): void {
  writeFileSync(join(home, "devnet.json"), `${JSON.stringify(state, null, 2)}\n`);
}
