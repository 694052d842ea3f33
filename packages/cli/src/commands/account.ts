// `lily balance`, `lily deposit`, `lily withdraw`: the job creator's wallet and
// escrow. A party deposits once; each deal locks from that balance, no per-job approvals.
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
    const [wallet, escrow] = await Promise.all([tokenBalance(chain, { account: account.address }), escrowBalance(chain, { account: account.address })]);
    const out = createOutput({ json: o.json });
    out.line(`address  ${account.address}`);
    out.line(`wallet   ${lily(wallet)}`);
    out.line(`escrow   ${lily(escrow)} (free to lock in deals)`);
    out.result({ address: account.address, wallet, escrow });
  });

  withWallet(program.command("deposit").description("move LILY from the wallet into escrow").argument("<amount>", "amount in LILY")).action(
    async (amount: string, o: { json?: boolean }, cmd: Command) => {
      const value = tokenOption(amount, "amount");
      const { jc } = jobCreatorFromFlags(cmd);
      const r = await deposit(jc.context.chain, { amount: value });
      const out = createOutput({ json: o.json });
      out.line(`deposited ${lily(value)} (tx ${r.txHash})`);
      out.result(r);
    },
  );

  withWallet(program.command("withdraw").description("move free LILY from escrow back to the wallet").argument("<amount>", "amount in LILY")).action(
    async (amount: string, o: { json?: boolean }, cmd: Command) => {
      const value = tokenOption(amount, "amount");
      const { jc } = jobCreatorFromFlags(cmd);
      const r = await withdraw(jc.context.chain, { amount: value });
      const out = createOutput({ json: o.json });
      out.line(`withdrew ${lily(value)} (tx ${r.txHash})`);
      out.result(r);
    },
  );
}
