// `lily false-challenger`: a job creator that challenges every result, right or wrong, hoping to
// get its money back. `lily devnet --adversary false-challenger` starts one so anyone can watch
// the mediator rule against it: each false challenge costs it the mediation fee and the honest
// provider is paid in full. A demonstration role; it only uses the public SDK.
import type { Command } from "commander";
import { parseEther } from "viem";
import { createLogger } from "@lily/node-kit";
import { addNetworkFlags } from "../config/resolveNetwork.ts";
import { paths } from "../config/home.ts";
import { createOutput } from "../output.ts";
import { announceReady, runUntilSignal } from "../ready.ts";
import { durationOption } from "../flags.ts";
import { jobCreatorFromFlags } from "../jobCreatorFromFlags.ts";

export function registerFalseChallenger(program: Command): void {
  addNetworkFlags(
    program
      .command("false-challenger")
      .description("demo adversary: submits jobs under the optimistic policy and challenges every result, correct or not")
      .option("--as <role>", "whose key pays", "adversary-false-challenger")
      .option("--key <path>", "keystore file")
      .option("--every <duration>", "pause between jobs", "15s"),
  ).action(async (o: { every: string }, cmd: Command) => {
    const log = createLogger({ module: "false-challenger" });
    const pause = durationOption(o.every, "--every") * 1000;
    const { jc, account, net } = jobCreatorFromFlags(cmd);
    let stopped = false;
    announceReady(createOutput(), { role: "false-challenger", address: account.address });
    const loop = async () => {
      for (let n = 1; !stopped; n++) {
        try {
          const result = await jc.run({
            module: "cowsay@1.0.0",
            inputs: { message: `job ${n}` },
            maxPrice: parseEther("10"),
            policy: "optimistic:60s",
            mediationFee: parseEther("1"),
            outDir: `${paths(net.home).results}/false-challenger/${n}`,
          });
          const { txHash } = await jc.challenge(result.jobOfferId);
          log.info("challenged a result it did not check", { job: result.jobOfferId, deal: result.dealId, txHash });
        } catch (e) {
          log.warn("round failed", { err: e });
        }
        await new Promise((r) => setTimeout(r, pause));
      }
    };
    void loop();
    await runUntilSignal(async () => {
      stopped = true;
    });
  });
}
