// Where a Lily installation keeps its files: LILY_HOME (default ~/.lily). The devnet writes
// network.json there so `lily run` in another terminal finds the chain, contracts, solver and
// store without flags; keys live in keys/, each role's database and data under its own folder.
import { homedir } from "node:os";
import { join, resolve } from "node:path";

export function lilyHome(flag?: string): string {
  return resolve(flag ?? process.env.LILY_HOME ?? join(homedir(), ".lily"));
}

export const paths = (home: string) => ({
  network: join(home, "network.json"),
  key: (role: string) => join(home, "keys", `${role}.json`),
  data: (role: string) => join(home, "data", role),
  logs: join(home, "logs"),
  log: (role: string) => join(home, "logs", `${role}.log`),
  results: join(home, "results"),
  chainState: join(home, "data", "chain", "anvil-state.json"),
});

/** The role whose key `lily run` and the other job creator commands sign with unless `--as` names another. */
export const JOB_CREATOR_ROLE = "job-creator";

/** The devnet's password is public by design; real deployments set LILY_KEYSTORE_PASSWORD. */
export const DEVNET_PASSWORD = "lily-devnet";

export function keystorePassword(): string {
  return process.env.LILY_KEYSTORE_PASSWORD ?? DEVNET_PASSWORD;
}

/** Where `lily devnet` keeps its private Docker daemon (data root, socket, log), when it starts one. */
export function devnetDockerHome(home: string): string {
  return join(home, "docker");
}
