// Build the job creator's SDK client from network.json, flags and the job creator's keystore.
import type { Command } from "commander";
import { createJobCreator } from "@lily/sdk";
import { JOB_CREATOR_ROLE, paths } from "./config/home.ts";
import { resolveNetwork, roleNetwork } from "./config/resolveNetwork.ts";
import { sqliteJournal } from "@lily/sdk";
import { roleSigner } from "./keys.ts";
import { urlOption } from "./flags.ts";

export function jobCreatorFromFlags(cmd: Command) {
  const net = resolveNetwork(cmd);
  const o = cmd.optsWithGlobals() as { as?: string; key?: string; alsoSolver?: string[] };
  const account = roleSigner(net.home, o.as ?? JOB_CREATOR_ROLE, o.key);
  const journal = sqliteJournal(`${paths(net.home).data(o.as ?? JOB_CREATOR_ROLE)}/jobs.db`);
  // `lily run --also-solver <url>`: the job offer goes to every solver named, proposals are read from all.
  const also = (o.alsoSolver ?? []).map((u, i) => urlOption(u, `--also-solver[${i}]`));
  const solverUrls = also.length > 0 ? { solverUrls: [net.solverUrl, ...also] } : {};
  const jc = createJobCreator({ account, ...roleNetwork(net), mediators: net.mediators, ...solverUrls }, { journal });
  return { jc, net, account, journal };
}
