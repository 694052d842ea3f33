// `lily run <module> -i key=value ...`: submit a job, follow it live, print its output and where
// the results were saved. Exit code 0 only when the module itself exited 0.
import type { Command } from "commander";
import { formatUnits } from "viem";
import { LilyError } from "@lily/protocol";
import type { Progress } from "@lily/sdk";
import { addNetworkFlags } from "../config/resolveNetwork.ts";
import { createOutput } from "../output.ts";
import { collectInput, durationOption, tokenOption } from "../flags.ts";
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
      .option("--timeout <duration>", "time the provider has once the deal opens (e.g. 90s, 5m; default: the module's)")
      .option("--match-timeout <duration>", "how long to wait for a provider to match", "20s")
      .option("--out <dir>", "where to save results (default: ./lily-results/<deal>)")
      .option("--json", "print one JSON document with the result instead of text")
      .option("--as <role>", "whose key pays", "job-creator")
      .option("--key <path>", "keystore file"),
  ).action(async (module: string, o: Record<string, unknown>, cmd: Command) => {
    const out = createOutput({ json: Boolean(o.json) });
    const maxPrice = tokenOption(String(o.maxPrice), "--max-price");
    const timeoutSeconds = o.timeout ? durationOption(String(o.timeout), "--timeout") : undefined;
    const matchTimeoutMs = durationOption(String(o.matchTimeout), "--match-timeout") * 1000;
    const { jc } = jobCreatorFromFlags(cmd);
    const result = await jc.run({
      module,
      inputs: o.input as Record<string, string>,
      maxPrice,
      timeoutSeconds,
      matchTimeoutMs,
      outDir: o.out as string | undefined,
      onProgress: (p) => out.progress(describe(p)),
    });
    out.result(result);
    if (!out.json) {
      if (result.stdout) process.stdout.write(result.stdout.endsWith("\n") ? result.stdout : result.stdout + "\n");
      out.line(`paid ${formatUnits(result.price, 18)} LILY to ${result.provider}; ${Object.keys(result.manifest.files).length} files saved to ${result.outDir}`);
    }
    if (result.exitCode !== 0) {
      throw new LilyError({ code: "EXECUTION_FAILED", field: "exitCode", message: `the module exited with code ${result.exitCode}; see ${result.outDir}/stderr` });
    }
  });
}

