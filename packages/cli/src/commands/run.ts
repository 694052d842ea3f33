// `lily run <module> -i key=value ...`: submit a job, follow it live, print its output and where
// the results were saved. Exit code 0 only when the module itself exited 0.
import type { Command } from "commander";
import { formatUnits } from "viem";
import { LilyError, Policy, isLilyError } from "@lily/protocol";
import type { JobResult, Progress } from "@lily/sdk";
import { addNetworkFlags } from "../config/resolveNetwork.ts";
import { createOutput } from "../output.ts";
import { collectInput, durationOption, intOption, tokenOption } from "../flags.ts";
import { printQuote } from "../quote.ts";
import { printExplanation } from "../explanation.ts";
import { jobCreatorFromFlags } from "../jobCreatorFromFlags.ts";

const short = (h: string) => `${h.slice(0, 10)}…`;

function describe(p: Progress): string {
  switch (p.stage) {
    case "inputs":
      return `inputs stored as ${p.inputsCid}`;
    case "offered":
      return `job offer ${short(p.jobOfferId)} sent to the solver`;
    case "matched":
      return `matched provider ${p.provider} at ${formatUnits(p.price, 18)} LILY (deal ${short(p.dealId)})`;
    case "signed":
      return "deal signed; waiting for the provider to open it on chain";
    case "opened":
      return `deal opened on chain${p.txHash ? ` (tx ${short(p.txHash)})` : ""}: payment and collateral locked`;
    case "running":
      return "provider is running the job in its sandbox";
    case "committed":
      return `result committed on chain: ${p.resultCid}`;
    case "downloaded":
      return `results downloaded to ${p.outDir}`;
    case "timed-out":
      return "provider missed the deadline: timeout claimed on chain";
    case "lapsed":
      return `deal ${short(p.dealId)} was not opened in time: nothing was locked; waiting for a new match`;
    case "cancelled":
      return `job offer ${short(p.jobOfferId)} withdrawn from the solver`;
  }
}

/** What happens to the money next, in one line. */
export function settlementNote(r: Pick<JobResult, "settlement" | "price" | "provider" | "jobOfferId" | "deal">): string {
  const price = `${formatUnits(r.price, 18)} LILY`;
  const id = r.jobOfferId.slice(0, 12);
  switch (r.settlement) {
    case "settled":
      return `paid ${price} to ${r.provider}`;
    case "committed":
      return r.deal.policy === Policy.optimistic
        ? `${price} is paid to the provider when the challenge window closes (${r.deal.policyParam}s after the commit) unless you run \`lily challenge ${id}\``
        : `${price} is paid to the provider once the audit draw (a future block) passes; if audited, a mediator re-runs the job first`;
    case "challenged":
      return `under mediation: a mediator is re-running the job (see \`lily jobs show ${id}\`)`;
    case "slashed":
      return `the provider was proven wrong and slashed: you were refunded ${price} and received its collateral`;
    default:
      return `deal is ${r.settlement}`;
  }
}

export function registerRun(program: Command): void {
  addNetworkFlags(
    program
      .command("run")
      .description("run a module on the network and wait for its result")
      .argument("<module>", "module as name@version (see `lily modules`) or a manifest CID")
      .option("-i, --input <key=value>", "an input (repeatable); file inputs take a path", collectInput, {})
      .option("--max-price <lily>", "the most you will pay for this job, in LILY", "10")
      .option(
        "--policy <policy>",
        "verification: trust, optimistic:<window> (e.g. optimistic:2m), audit:<p> (e.g. audit:10%), replicate:<k> (e.g. replicate:2)",
        "trust",
      )
      .option("--mediation-fee <lily>", "paid to the mediator by whoever a mediation proves wrong (reserved while the job runs)", "1")
      .option("--quote", "print what the policy costs and how likely it catches a cheating provider, then exit without running")
      .option("--quote-jobs <n>", "how many jobs the --quote catch probability is computed over", "10")
      .option(
        "--dry-run",
        "print how the solver would match the job now (each provider's reason, the clearing price, what would match), then exit without signing or posting",
      )
      .option("--timeout <duration>", "time the provider has once the deal opens (e.g. 90s, 5m; default: the module's)")
      .option("--match-timeout <duration>", "how long to wait for a provider to match", "20s")
      .option("--out <dir>", "where to save results (default: ./lily-results/<deal>)")
      .option("--json", "print one JSON document with the result instead of text")
      .option("--as <role>", "whose key pays", "job-creator")
      .option("--key <path>", "keystore file")
      .option(
        "--also-solver <url>",
        "also post the job offer to this solver, besides --solver-url (repeatable); at most one deal is signed, whoever proposed it",
        (v: string, prev: string[]) => [...prev, v],
        [] as string[],
      ),
  ).action(async (module: string, o: Record<string, unknown>, cmd: Command) => {
    const out = createOutput({ json: Boolean(o.json) });
    const maxPrice = tokenOption(String(o.maxPrice), "--max-price");
    const timeoutSeconds = o.timeout ? durationOption(String(o.timeout), "--timeout") : undefined;
    const matchTimeoutMs = durationOption(String(o.matchTimeout), "--match-timeout") * 1000;
    const { jc } = jobCreatorFromFlags(cmd);
    const policy = String(o.policy);
    const mediationFee = tokenOption(String(o.mediationFee), "--mediation-fee");
    if (o.quote) {
      const q = await jc.quote({ module, policy, maxPrice, mediationFee, jobs: intOption(String(o.quoteJobs), "--quote-jobs") });
      printQuote(out, q);
      out.result(q);
      return;
    }
    const params = {
      module,
      inputs: o.input as Record<string, string>,
      maxPrice,
      policy,
      mediationFee,
      timeoutSeconds,
      matchTimeoutMs,
      outDir: o.out as string | undefined,
      onProgress: (p: Progress) => out.progress(describe(p)),
    };
    if (o.dryRun) {
      const report = await jc.explain(params);
      printExplanation(out, module, policy, report);
      out.result(report);
      return;
    }
    const { jobOfferId, posted } = await jc.submitJob(params);
    // Ctrl-C: the SDK withdraws the job offer if nothing it signed can still open; a signed deal
    // that may open stays in the journal for `lily jobs show`. Exit 130, as for any interrupted command.
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once("SIGINT", onSignal);
    const result = await jc.waitForResult({ ...params, jobOfferId, posted, signal: stop.signal }).catch((e: unknown) => {
      if (!stop.signal.aborted) throw e;
      out.progress(
        `stopped: ${isLilyError(e, "NO_MATCH") ? "the job offer was withdrawn, nothing was locked" : `a signed deal may still open; see \`lily jobs show ${jobOfferId.slice(0, 12)}\``}`,
      );
      process.exit(130);
    });
    process.off("SIGINT", onSignal);
    out.result(result);
    if (!out.json) {
      if (result.stdout) process.stdout.write(result.stdout.endsWith("\n") ? result.stdout : `${result.stdout}\n`);
      const n = Object.keys(result.manifest.files).length;
      out.line(`${n} ${n === 1 ? "file" : "files"} saved to ${result.outDir}`);
      out.line(settlementNote(result));
      for (const r of result.replicas ?? []) out.line(`  replica ${r.provider}: ${r.state === "settled" ? "paid (in the majority)" : r.state}`);
    }
    if (result.exitCode !== 0) {
      throw new LilyError({
        code: "EXECUTION_FAILED",
        field: "exitCode",
        message: `the module exited with code ${result.exitCode}; see ${result.outDir}/stderr`,
      });
    }
  });
}
