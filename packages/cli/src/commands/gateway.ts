// `lily gateway`: run Anura, the OpenAI-compatible inference gateway, as a process. It holds
// leases with providers that serve models (paying each answer by voucher from its leases escrow),
// signs users in with their wallets (Halo) and serves their API keys, receipts and jobs, and the
// studio (the web app) at its root.
import type { Command } from "commander";
import { createLogger } from "@lily/node-kit";
import { gatewayDefaults, startGateway } from "@lily/gateway";
import { paths } from "../config/home.ts";
import { addNetworkFlags, resolveNetwork, roleNetwork } from "../config/resolveNetwork.ts";
import { createOutput } from "../output.ts";
import { announceReady, runUntilSignal } from "../ready.ts";
import { bpsOption, durationOption, intOption, tokenOption } from "../flags.ts";
import { keystoreKey, roleAccount } from "../keys.ts";

export function registerGateway(program: Command): void {
  addNetworkFlags(
    program
      .command("gateway")
      .description("run the OpenAI-compatible inference gateway (leases with providers, API keys, wallet sign-in)")
      .option("--name <name>", "role name: picks its key ($LILY_HOME/keys/<name>.json) and data folder", "gateway")
      .option("--key <path>", "keystore file (created on first run)")
      .option("--host <host>", "interface to listen on", gatewayDefaults.host)
      .option("--port <port>", "port to listen on (0 = any free port)", "7104")
      .option("--public-url <url>", "the URL users reach the gateway at (default: the listening URL)")
      .option("--lease-budget <lily>", "LILY locked per lease with a provider", "1")
      .option("--lease-duration <duration>", "how long a lease serves, e.g. 1h, 30m", "1h")
      .option("--mediator-url <url>", "the mediator that audits sampled answers")
      .option("--audit <percent>", "share of temperature-0 answers sent to audit, e.g. 5%", "0%")
      .option("--mediation-fee <lily>", "paid to the mediator from a provider's collateral when an audit proves it wrong", "0")
      .option("--max-tokens <n>", "max_tokens of a chat request that gives none", String(gatewayDefaults.defaultMaxTokens))
      .option("--studio-dir <path>", "the built studio to serve at / (default: @lily/studio's dist folder)")
      .option("--dev-account-key <keystore>", "devnets only: hand this keystore's key to the studio at /v1/dev/account, for signing in without a wallet"),
  ).action(async (o: Record<string, string>, cmd: Command) => {
    const net = resolveNetwork(cmd);
    const account = roleAccount(net.home, o.name!, o.key);
    const gateway = await startGateway(
      {
        network: roleNetwork(net),
        account,
        home: paths(net.home).data(o.name!),
        host: o.host!,
        port: intOption(o.port!, "--port"),
        publicUrl: o.publicUrl,
        leaseBudget: tokenOption(o.leaseBudget!, "--lease-budget"),
        leaseSeconds: durationOption(o.leaseDuration!, "--lease-duration"),
        mediatorUrl: o.mediatorUrl,
        auditBps: bpsOption(o.audit!, "--audit"),
        mediationFee: tokenOption(o.mediationFee!, "--mediation-fee"),
        defaultMaxTokens: intOption(o.maxTokens!, "--max-tokens"),
        studioDir: o.studioDir,
        devAccountKey: o.devAccountKey === undefined ? undefined : keystoreKey(o.devAccountKey, "--dev-account-key"),
      },
      { log: createLogger({ module: o.name! }) },
    );
    announceReady(createOutput(), { role: o.name!, url: gateway.url, address: gateway.address });
    await runUntilSignal(() => gateway.close());
  });
}
