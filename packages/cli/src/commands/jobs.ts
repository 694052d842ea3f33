// `lily jobs`: the job creator's jobs from its journal; `lily jobs show <id>` for one. A job's deal
// is read from the contract it opened on: LilyTrustDeals for a routed trust deal, else LilyDeals.
import type { Command } from "commander";
import { formatUnits } from "viem";
import { LilyError } from "@lily/protocol";
import type { JobStage } from "@lily/sdk";
import { onTrustDeals, routedDealEvents, routedDealRecord } from "@lily/chain";
import { policyById } from "@lily/verification";
import { addNetworkFlags } from "../config/resolveNetwork.ts";
import { createOutput } from "../output.ts";
import { jobCreatorFromFlags } from "../jobCreatorFromFlags.ts";

function describeArgs(args: Record<string, unknown>): string {
  return Object.entries(args)
    .filter(([k]) => k !== "dealId")
    .map(([k, v]) => `${k}=${typeof v === "bigint" && v > 10n ** 15n ? `${formatUnits(v, 18)} LILY` : String(v)}`)
    .join(" ");
}

/** A journal stage as a person reads it: "no-match" is "no match". */
const stageName = (stage: JobStage) => stage.replaceAll("-", " ");

export function registerJobs(program: Command): void {
  const jobs = addNetworkFlags(
    program.command("jobs").description("list this job creator's jobs").option("--json", "print JSON").option("--as <role>", "whose journal", "job-creator"),
  );
  jobs.action(async (o: { json?: boolean }, cmd: Command) => {
    const { journal } = jobCreatorFromFlags(cmd);
    const out = createOutput({ json: o.json });
    const list = journal.list();
    if (list.length === 0) out.line("no jobs yet: try `npx lily run cowsay@1.0.0 -i message=hello`");
    for (const j of list) {
      out.line(
        `${j.jobOfferId.slice(0, 12)}  ${stageName(j.stage).padEnd(9)}  ${j.module}  ${new Date(j.createdAt).toISOString()}${j.outDir ? `  ${j.outDir}` : ""}${j.error ? `  ${j.error}` : ""}`,
      );
    }
    out.result(list);
  });
  addNetworkFlags(
    jobs
      .command("show")
      .description("show one job")
      .argument("<id>", "job offer id or a prefix of it")
      .option("--json", "print JSON")
      .option("--as <role>", "whose journal", "job-creator"),
  ).action(async (id: string, o: { json?: boolean }, cmd: Command) => {
    const { journal, jc } = jobCreatorFromFlags(cmd);
    const matches = journal.list().filter((j) => j.jobOfferId.startsWith(id.toLowerCase()));
    if (matches.length !== 1)
      throw new LilyError({
        code: matches.length ? "INVALID_INPUT" : "NOT_FOUND",
        field: "id",
        message: `id: ${matches.length ? "ambiguous prefix" : "no such job"} ${id}`,
      });
    const j = matches[0]!;
    const out = createOutput({ json: o.json });
    out.line(`job offer  ${j.jobOfferId}`);
    out.line(`module     ${j.module} (${j.offer.module})`);
    out.line(`inputs     ${j.offer.inputs}`);
    out.line(`max price  ${formatUnits(j.offer.maxPrice, 18)} LILY`);
    out.line(`stage      ${stageName(j.stage)}${j.error ? `: ${j.error}` : ""}`);
    if (j.deal)
      out.line(
        `deal       ${j.dealId} with ${j.deal.provider} at ${formatUnits(j.deal.price, 18)} LILY, deadline ${new Date(Number(j.deal.deadline) * 1000).toISOString()}`,
      );
    for (const r of j.replicas?.slice(1) ?? []) out.line(`replica    ${r.dealId} with ${r.deal.provider}`);
    if (j.lapsed?.length) out.line(`lapsed     ${j.lapsed.length} signed deal(s) never opened by their openBy; nothing was locked for them`);
    if (j.resultCid) out.line(`result     ${j.resultCid} -> ${j.outDir}`);
    let chain: { state: string; events: { name: string; txHash: string; gasUsed: bigint; args: unknown }[] } | undefined;
    if (j.dealId) {
      // The chain is the authority on where the money is; the journal only remembers.
      const chainClient = jc.context.chain;
      const routed = onTrustDeals(chainClient.addresses, j.deal!);
      const params = {
        dealId: j.dealId,
        deal: j.deal!,
        trustNonce: j.trustNonce,
        ...(j.trustFromBlock !== undefined && { fromBlock: BigInt(j.trustFromBlock) }),
      };
      const [record, events] = await Promise.all([routedDealRecord(chainClient, params), routedDealEvents(chainClient, params)]);
      chain = {
        state: record.state,
        events: events.map((e) => ({ name: e.name, txHash: e.txHash, gasUsed: e.gasUsed, args: e.args, ...("batchSize" in e && { batchSize: e.batchSize }) })),
      };
      const stage = ({ settled: "completed", slashed: "refunded", timedOut: "refunded" } as const)[record.state as "settled"];
      // A routed deal settled without the provider's signed result ended failed (the provider was paid, no result came): that stays.
      if (stage && j.stage !== stage && !(routed && j.stage === "failed")) journal.put({ ...j, stage });
      out.line(`policy     ${policyById(j.deal!.policy)?.format(j.deal!.policyParam) ?? j.deal!.policy}`);
      out.line(`on chain   ${record.state}${routed ? " (LilyTrustDeals)" : ""}`);
      // A LilyTrustDeals transaction carries a batch of deals: its gas is shown with the batch's size.
      for (const e of events)
        out.line(
          `  ${e.name.padEnd(20)} tx ${e.txHash.slice(0, 12)}…  gas ${e.gasUsed}${"batchSize" in e ? ` for ${e.batchSize} deal(s)` : ""}  ${describeArgs(e.args as Record<string, unknown>)}`,
        );
    }
    out.result({ ...j, chain });
  });
}
