// `lily balance`, `lily deposit`, `lily withdraw`: a role's wallet and escrow. A party deposits
// once; each deal locks from that balance, no per-job approvals. Leases (a gateway's budgets, a
// model provider's collateral) lock from a separate escrow in LilyLeases: `--leases` moves LILY there.
import type { Command } from "commander";
import { deposit, escrowBalance, tokenBalance, withdraw } from "@lily/chain";
import { addNetworkFlags } from "../config/resolveNetwork.ts";
import { createOutput } from "../output.ts";
import { tokenOption } from "../flags.ts";
import { jobCreatorFromFlags } from "../jobCreatorFromFlags.ts";
import { formatLily as lily } from "@lily/protocol";

function withWallet(cmd: Command): Command {
  return addNetworkFlags(cmd.option("--as <role>", "whose key to use", "job-creator").option("--key <path>", "keystore file").option("--json", "print JSON"));
}

export function registerAccount(program: Command): void {
  withWallet(program.command("balance").description("show wallet and escrow balances")).action(async (o: { json?: boolean }, cmd: Command) => {
    const { jc, account } = jobCreatorFromFlags(cmd);
    const chain = jc.context.chain;
    const [wallet, escrow, leases] = await Promise.all([
      tokenBalance(chain, { account: account.address }),
      escrowBalance(chain, { account: account.address }),
      escrowBalance(chain, { account: account.address, escrow: chain.addresses.leases }),
    ]);
    const out = createOutput({ json: o.json });
    out.line(`address  ${account.address}`);
    out.line(`wallet   ${lily(wallet)}`);
    out.line(`escrow   ${lily(escrow)} (free to lock in deals)`);
    out.line(`leases   ${lily(leases)} (free to lock in inference leases: budgets, collateral)`);
    out.result({ address: account.address, wallet, escrow, leases });
  });

  withWallet(
    program
      .command("deposit")
      .description("move LILY from the wallet into escrow")
      .argument("<amount>", "amount in LILY")
      .option("--lease-escrow", "into the leases escrow (a gateway's lease budgets, a model provider's collateral)"),
  ).action(async (amount: string, o: { json?: boolean; leaseEscrow?: boolean }, cmd: Command) => {
    const value = tokenOption(amount, "amount");
    const { jc } = jobCreatorFromFlags(cmd);
    const chain = jc.context.chain;
    const r = await deposit(chain, { amount: value, ...(o.leaseEscrow && { escrow: chain.addresses.leases }) });
    const out = createOutput({ json: o.json });
    out.line(`deposited ${lily(value)}${o.leaseEscrow ? " into the leases escrow" : ""} (tx ${r.txHash})`);
    out.result(r);
  });

  withWallet(
    program
      .command("withdraw")
      .description("move free LILY from escrow back to the wallet")
      .argument("<amount>", "amount in LILY")
      .option("--lease-escrow", "from the leases escrow"),
  ).action(async (amount: string, o: { json?: boolean; leaseEscrow?: boolean }, cmd: Command) => {
    const value = tokenOption(amount, "amount");
    const { jc } = jobCreatorFromFlags(cmd);
    const chain = jc.context.chain;
    const r = await withdraw(chain, { amount: value, ...(o.leaseEscrow && { escrow: chain.addresses.leases }) });
    const out = createOutput({ json: o.json });
    out.line(`withdrew ${lily(value)}${o.leaseEscrow ? " from the leases escrow" : ""} (tx ${r.txHash})`);
    out.result(r);
  });
}
