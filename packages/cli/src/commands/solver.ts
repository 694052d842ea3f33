// `lily solver`: run the solver (order book, matcher, deal proposals) as a process.
import type { Command } from "commander";
import { createLogger } from "@lily/node-kit";
import { startSolver, defaultSolverOptions } from "@lily/solver";
import { parse, address } from "@lily/protocol";
import { lilyHome, paths } from "../config/home.ts";
import { createOutput } from "../output.ts";
import { announceReady, runUntilSignal } from "../ready.ts";
import { durationOption, intOption } from "../flags.ts";

export function registerSolver(program: Command): void {
  program
    .command("solver")
    .description("run a solver: keeps job and resource offers, matches them, proposes deals")
    .requiredOption("--chain-id <id>", "chain id the deals are signed for")
    .requiredOption("--deals <address>", "LilyDeals contract (the EIP-712 verifying contract)")
    .requiredOption("--leases <address>", "LilyLeases contract (the EIP-712 verifying contract of model offers)")
    .requiredOption("--token <address>", "Lily token contract")
    .option("--trust-deals <address>", "LilyTrustDeals contract, if trust deals open there (in batches)")
    .requiredOption("--rpc-url <url>", "the chain's JSON-RPC endpoint, read for escrow balances, chain time and deal events")
    .option("--deploy-block <n>", "the block LilyDeals was deployed in (where the scan of deal events starts)", "0")
    .option("--db <path>", "SQLite database (default: $LILY_HOME/data/solver/solver.db)")
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--port <port>", "port to listen on (0 = any free port)", "7100")
    .option(
      "--sign-window <seconds>",
      "how long a proposed deal waits for both signatures and its opening (its openBy)",
      String(defaultSolverOptions.signWindowSeconds),
    )
    .option("--max-job-offer-ttl <duration>", "refuse job offers expiring later than this from now", `${defaultSolverOptions.maxJobOfferTtlSeconds}s`)
    .option(
      "--max-resource-offer-ttl <duration>",
      "refuse resource offers expiring later than this from now",
      `${defaultSolverOptions.maxResourceOfferTtlSeconds}s`,
    )
    .option("--max-job-timeout <duration>", "refuse job offers whose timeout is longer than this", `${defaultSolverOptions.maxJobTimeoutSeconds}s`)
    .action(async (o: Record<string, string>, cmd: Command) => {
      const home = lilyHome(cmd.optsWithGlobals().home);
      const solver = await startSolver(
        {
          ...defaultSolverOptions,
          dbPath: o.db ?? `${paths(home).data("solver")}/solver.db`,
          host: o.host!,
          port: intOption(o.port!, "--port"),
          domain: { chainId: intOption(o.chainId!, "--chain-id"), verifyingContract: parse(address, o.deals, "--deals") },
          leases: parse(address, o.leases, "--leases"),
          token: parse(address, o.token, "--token"),
          ...(o.trustDeals && { trustDeals: parse(address, o.trustDeals, "--trust-deals") }),
          rpcUrl: o.rpcUrl!,
          deployBlock: intOption(o.deployBlock!, "--deploy-block"),
          signWindowSeconds: intOption(o.signWindow!, "--sign-window"),
          maxJobOfferTtlSeconds: durationOption(o.maxJobOfferTtl!, "--max-job-offer-ttl"),
          maxResourceOfferTtlSeconds: durationOption(o.maxResourceOfferTtl!, "--max-resource-offer-ttl"),
          maxJobTimeoutSeconds: durationOption(o.maxJobTimeout!, "--max-job-timeout"),
        },
        { logger: createLogger({ module: "solver" }) },
      );
      announceReady(createOutput(), { role: "solver", url: solver.url });
      await runUntilSignal(() => solver.close());
    });
}
