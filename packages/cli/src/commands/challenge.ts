// `lily challenge <id>`: dispute a committed result under the optimistic policy; with --follow,
// stay until the window closes and send the challenge again if the chain node lost it.
import type { Command } from "commander";
import type { Hex } from "viem";
import { LilyError } from "@lily/protocol";
import { followChallenge, type ChallengeProgress } from "@lily/sdk";
import { addNetworkFlags } from "../config/resolveNetwork.ts";
import { createOutput, type Output } from "../output.ts";
import { jobCreatorFromFlags } from "../jobCreatorFromFlags.ts";

/** While nothing changes, how often --follow says how long the window still runs. */
const QUIET_MS = 30_000;

export function registerChallenge(program: Command): void {
  addNetworkFlags(
    program
      .command("challenge")
      .description("dispute a job's result (optimistic policy, within its challenge window): a mediator re-runs it and rules")
      .argument("<id>", "job offer id or a prefix of it (see `lily jobs`)")
      .option("--reason <text>", "why, in at most 32 bytes (recorded on chain)")
      .option(
        "--follow",
        "stay until the challenge window closes, sending the challenge again if the chain node loses it (blocks dropped), then print the deal's state",
      )
      .option("--json", "print JSON")
      .option("--as <role>", "whose key", "job-creator")
      .option("--key <path>", "keystore file"),
  ).action(async (id: string, o: { reason?: string; follow?: boolean; json?: boolean }, cmd: Command) => {
    const { jc, journal } = jobCreatorFromFlags(cmd);
    const matches = journal.list().filter((j) => j.jobOfferId.startsWith(id.toLowerCase()));
    if (matches.length !== 1)
      throw new LilyError({
        code: matches.length ? "INVALID_INPUT" : "NOT_FOUND",
        field: "id",
        message: `id: ${matches.length ? "ambiguous prefix" : "no such job"} ${id}`,
      });
    const jobOfferId = matches[0]!.jobOfferId;
    const reason = o.reason as Hex | undefined;
    const r = await jc.challenge(jobOfferId, reason);
    const out = createOutput({ json: o.json });
    out.line(`challenged deal ${r.dealId} (tx ${r.txHash})`);
    out.line("a mediator both parties accepted will re-run the job and rule; the loser pays the mediation fee");
    if (!o.follow) {
      out.line(`\`lily challenge ${id} --follow\` keeps watching until the window closes, and challenges again if the chain node loses this one`);
      out.result(r);
      return;
    }
    const outcome = await followChallenge(jc.context, { jobOfferId, reason, onProgress: progressPrinter(out) });
    out.line(
      outcome.lost
        ? "window closed: deal committed: the chain node lost the challenge and it could not be sent again in time; the provider is paid"
        : `window closed: deal ${outcome.state}`,
    );
    out.result({ ...r, ...outcome });
    if (outcome.lost) process.exitCode = 1;
  });
}

/** Progress lines for --follow: each change, a resend, and between them a line every QUIET_MS at most. */
function progressPrinter(out: Output): (p: ChallengeProgress) => void {
  let said = "";
  let saidAt = 0;
  return (p) => {
    if (p.kind === "sentAgain") return out.progress(`challenge lost by the node: sent again (tx ${p.txHash})`);
    if (p.kind === "lookFailed") return out.progress(`could not read or challenge the deal (${(p.error as Error)?.message ?? p.error}); trying again`);
    // Committed with the window open means lost: the "sent again" line that follows says so.
    if (p.state === "committed") return;
    const text =
      p.windowClosesAt === undefined
        ? `deal ${p.state}: the node lost the commit too; a new one may come until the deadline in ${p.deadline - p.now} s`
        : `deal ${p.state}: window closes in ${p.windowClosesAt - p.now} s`;
    const state = `${p.state}${p.windowClosesAt}`;
    if (state === said && Date.now() - saidAt < QUIET_MS) return;
    said = state;
    saidAt = Date.now();
    out.progress(text);
  };
}
