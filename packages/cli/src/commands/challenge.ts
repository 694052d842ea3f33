// `lily challenge <id>`: dispute a committed result under the optimistic policy.
import type { Command } from "commander";
import type { Hex } from "viem";
import { LilyError } from "@lily/protocol";
import { addNetworkFlags } from "../config/resolveNetwork.ts";
import { createOutput } from "../output.ts";
import { jobCreatorFromFlags } from "../jobCreatorFromFlags.ts";

export function registerChallenge(program: Command): void {
  addNetworkFlags(
    program
      .command("challenge")
      .description("dispute a job's result (optimistic policy, within its challenge window): a mediator re-runs it and rules")
      .argument("<id>", "job offer id or a prefix of it (see `lily jobs`)")
      .option("--reason <text>", "why, in at most 32 bytes (recorded on chain)")
      .option("--json", "print JSON")
      .option("--as <role>", "whose key", "job-creator")
      .option("--key <path>", "keystore file"),
  ).action(async (id: string, o: { reason?: string; json?: boolean }, cmd: Command) => {
    const { jc, journal } = jobCreatorFromFlags(cmd);
    const matches = journal.list().filter((j) => j.jobOfferId.startsWith(id.toLowerCase()));
    if (matches.length !== 1)
      throw new LilyError({
        code: matches.length ? "INVALID_INPUT" : "NOT_FOUND",
        field: "id",
        message: `id: ${matches.length ? "ambiguous prefix" : "no such job"} ${id}`,
      });
    const r = await jc.challenge(matches[0]!.jobOfferId, o.reason as Hex | undefined);
    const out = createOutput({ json: o.json });
    out.line(`challenged deal ${r.dealId} (tx ${r.txHash})`);
    out.line("a mediator both parties accepted will re-run the job and rule; the loser pays the mediation fee");
    out.result(r);
  });
}
