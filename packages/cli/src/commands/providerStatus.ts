// `lily provider status`: what a provider is doing and has earned. It asks the running provider's
// /status endpoint (the URL it wrote into its data folder at start, or --url): only the running
// process knows that it is online, what executes now and its free disk. When nothing answers it
// reads the provider's database, which holds everything else (jobs by outcome, earnings, slashes,
// capacity held by deals) the same way the endpoint sums it, and says the provider is offline.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import * as z from "zod";
import { ProviderDb, ProviderStatus, statusFromDb } from "@lily/provider";
import { LilyError, formatLily, parse } from "@lily/protocol";
import { lilyHome, paths } from "../config/home.ts";
import { createOutput } from "../output.ts";

/** Written into the provider's data folder while it serves /status: `{ url, pid }`. */
export const ENDPOINT_FILE = "endpoint.json";

/** How long the running provider has to answer before it is taken for offline. */
const ASK_TIMEOUT_MS = 3000;

export function registerProviderStatus(provider: Command): void {
  provider
    .command("status")
    .description("show a provider's state: online, capacity in use, jobs by outcome, earnings, slashes")
    .option("--name <name>", "the provider's role name (its data folder)", "provider")
    .option("--url <url>", "the provider's metrics server (default: the one it recorded at start)")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      "\nReads the running provider's /status endpoint; when it does not answer, reads its database\n(jobs, earnings and slashes survive restarts there) and reports it offline.",
    )
    .action(async (o: { name: string; url?: string; json?: boolean }, cmd: Command) => {
      const home = lilyHome((cmd.optsWithGlobals() as { home?: string }).home);
      // `lily provider --name p1 status` and `lily provider status --name p1`: commander gives a
      // --name after `status` to `provider` (which has one too), so take it from whichever saw it.
      const parent = cmd.parent;
      const name =
        cmd.getOptionValueSource("name") !== "cli" && parent?.getOptionValueSource("name") === "cli" ? (parent.opts() as { name: string }).name : o.name;
      const dir = paths(home).data(name);
      const url = o.url ?? recordedUrl(dir);
      const status = (url && (await ask(url))) || offline(dir, name, url);
      const out = createOutput({ json: o.json });
      print(out.line, status, url);
      out.result(status);
    });
}

function recordedUrl(dir: string): string | undefined {
  const file = join(dir, ENDPOINT_FILE);
  if (!existsSync(file)) return undefined;
  return parse(z.object({ url: z.string().url() }), JSON.parse(readFileSync(file, "utf8")), file).url;
}

/** The running provider's own status, or undefined when nothing answers there. */
async function ask(url: string): Promise<ProviderStatus | undefined> {
  let res: Response;
  try {
    res = await fetch(`${url}/status`, { signal: AbortSignal.timeout(ASK_TIMEOUT_MS) });
  } catch {
    // Not answering is what offline means here; the database is read instead.
    return undefined;
  }
  if (!res.ok) throw new LilyError({ code: "UNREACHABLE", field: "--url", message: `--url: ${url}/status answered ${res.status}` });
  return parse(ProviderStatus, await res.json(), `${url}/status`);
}

function offline(dir: string, name: string, url: string | undefined): ProviderStatus {
  const dbPath = join(dir, "provider.db");
  if (!existsSync(dbPath)) {
    throw new LilyError({
      code: url ? "UNREACHABLE" : "NOT_FOUND",
      field: url ? "--url" : "--name",
      message: url ? `--url: no provider answers at ${url}, and none named ${name} has data here` : `--name: no provider named ${name} has run here (${dir})`,
      hint: "start one with `lily provider --name <name>`, or pass --home or --url",
    });
  }
  const db = new ProviderDb(dbPath);
  try {
    return statusFromDb(db, Math.floor(Date.now() / 1000)).status;
  } finally {
    db.close();
  }
}

const res = (r: ProviderStatus["capacity"]) => `${r.cpu} CPU, ${r.memoryMb} MiB, ${r.gpu} GPU, ${r.vramMb} MiB VRAM`;

function print(line: (text?: string) => void, s: ProviderStatus, url: string | undefined): void {
  const who = s.address ?? "(no offer made yet)";
  line(
    `provider   ${who}  ${s.online ? `online since ${new Date(s.startedAt ?? 0).toISOString()}${url ? `  ${url}` : ""}` : "offline (read from its database)"}`,
  );
  line(`capacity   ${res(s.capacity)}`);
  line(
    `in use     ${res(s.inUse)}  (${s.heldJobs} deal${s.heldJobs === 1 ? "" : "s"}${s.maxConcurrentJobs ? `, at most ${s.maxConcurrentJobs} at once` : ""})`,
  );
  if (s.running) line(`running    ${s.running.jobs} job${s.running.jobs === 1 ? "" : "s"}: ${res(s.running.resources)}`);
  if (s.diskFreeBytes !== undefined) line(`disk       ${Math.floor(s.diskFreeBytes / 2 ** 20)} MiB free`);
  const offers = s.offers.map((x) => `${formatLily(x.price)} per job (${x.modules} module${x.modules === 1 ? "" : "s"})`).join(", ");
  line(`offers     ${s.offers.length === 0 ? "none" : offers}`);
  const jobs = Object.entries(s.jobs).map(([k, n]) => `${k === "inProgress" ? "in progress" : k} ${n}`);
  line(`jobs       ${jobs.join(", ")}`);
  line(`failures   ${s.failures} job${s.failures === 1 ? "" : "s"} exited non-zero`);
  line(`earnings   ${formatLily(s.earningsWei)}`);
  line(`slashes    ${s.slashes} (${formatLily(s.slashedCollateralWei)} collateral lost)`);
}
