// Run inside the job creator's namespace by multiHost.test.ts: one cowsay job through the SDK with
// its job offer posted to every solver given, then what became of each deal any solver proposed
// for it: its state on chain, and what the chain says to an attempt to open each deal that did not
// open (with the job creator's signature over the deal that did) and to opening that one again.
// Prints one JSON line.
//   node test/hosts/sdkJob.ts '{"home":..,"solverUrls":[..],"message":..,"outDir":..}'
import { parseEther, type Hex } from "viem";
import { createClient, solverRoutes } from "@lily/api";
import { createLilyClient, dealRecord, openDeal } from "@lily/chain";
import { isLilyError, type DealRecord } from "@lily/protocol";
import { createJobCreator } from "@lily/sdk";
import { readNetwork } from "../../packages/cli/src/config/network.ts";
import { paths } from "../../packages/cli/src/config/home.ts";
import { roleNetwork } from "../../packages/cli/src/config/resolveNetwork.ts";
import { roleAccount } from "../../packages/cli/src/keys.ts";
import { JOB_CREATOR_ROLE } from "../../packages/cli/src/config/home.ts";

interface Args {
  home: string;
  solverUrls: string[];
  message: string;
  outDir: string;
}

const a = JSON.parse(process.argv[2]!) as Args;
const net = readNetwork(paths(a.home).network);
const account = roleAccount(a.home, JOB_CREATOR_ROLE);
const jc = createJobCreator({ account, ...roleNetwork(net), mediators: net.mediators, solverUrls: a.solverUrls });
const started = Date.now();
const result = await jc.run({ module: "cowsay@1.0.0", inputs: { message: a.message }, maxPrice: parseEther("10"), outDir: a.outDir });
const ms = Date.now() - started;

// Each solver on its own: the deals it proposed for this job offer.
const proposed: (DealRecord & { solver: string })[] = [];
for (const url of a.solverUrls) {
  const solver = createClient(url, solverRoutes, { peer: `solver at ${url}` });
  const { deals } = await solver.listDeals({ query: { jobCreator: account.address } });
  for (const d of deals) if (d.jobOfferId.toLowerCase() === result.jobOfferId.toLowerCase()) proposed.push({ ...d, solver: url });
}
const chain = createLilyClient({ rpcUrl: net.rpcUrl, account, addresses: net });
const states: Record<string, string> = {};
for (const d of proposed) states[d.id] = (await dealRecord(chain, { dealId: d.id })).state;

const opened = proposed.find((d) => d.id.toLowerCase() === result.dealId.toLowerCase() && d.jobCreatorSignature && d.providerSignature);
const refusal = async (f: () => Promise<unknown>) => {
  try {
    await f();
    return { opened: true };
  } catch (e) {
    if (!isLilyError(e)) throw e;
    return { code: e.code, error: (e.details as { error?: string }).error, args: (e.details as { args?: unknown }).args, message: e.message };
  }
};
const attempts: { dealId: Hex; solver: string; refused: unknown }[] = [];
if (opened) {
  for (const d of proposed.filter((p) => p.id !== opened.id)) {
    // The only job creator signature there is: the one over the deal that opened.
    attempts.push({
      dealId: d.id,
      solver: d.solver,
      refused: await refusal(() =>
        openDeal(chain, { deal: d.deal, jobCreatorSig: opened.jobCreatorSignature!, providerSig: d.providerSignature ?? opened.providerSignature! }),
      ),
    });
  }
}
const reopen = opened
  ? await refusal(() => openDeal(chain, { deal: opened.deal, jobCreatorSig: opened.jobCreatorSignature!, providerSig: opened.providerSignature! }))
  : undefined;

process.stdout.write(
  `${JSON.stringify(
    {
      ms,
      jobOfferId: result.jobOfferId,
      dealId: result.dealId,
      provider: result.provider,
      settlement: result.settlement,
      stdout: result.stdout,
      jobCreator: account.address,
      proposed: proposed.map((d) => ({
        id: d.id,
        solver: d.solver,
        provider: d.deal.provider,
        status: d.status,
        providerSigned: Boolean(d.providerSignature),
      })),
      states,
      attempts,
      reopen,
    },
    (_k, v) => (typeof v === "bigint" ? v.toString() : v),
  )}\n`,
);
process.exit(0);
