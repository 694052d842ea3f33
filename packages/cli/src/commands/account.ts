// `lily balance`, `lily deposit`, `lily withdraw`: a role's wallet and escrow. A party deposits
// once; each deal locks from that balance, no per-job approvals. Leases (a gateway's budgets, a
// model provider's collateral) lock from a separate escrow in LilyLeases: `--lease-escrow` moves LILY
// there. On a network with LilyTrustDeals, trust deals lock from that contract's own escrow:
// `balance` shows it beside the others and `--trust-escrow` moves LILY into or out of it.
import type { Address } from "viem";
import type { Command } from "commander";
import { LilyError } from "@lily/protocol";
import { deposit, escrowBalance, tokenBalance, withdraw, type LilyAddresses } from "@lily/chain";
import { addNetworkFlags } from "../config/resolveNetwork.ts";
import { createOutput } from "../output.ts";
import { tokenOption } from "../flags.ts";
import { jobCreatorFromFlags } from "../jobCreatorFromFlags.ts";
import { formatLily as lily } from "@lily/protocol";

function withWallet(cmd: Command): Command {
  return addNetworkFlags(cmd.option("--as <role>", "whose key to use", "job-creator").option("--key <path>", "keystore file").option("--json", "print JSON"));
}

interface EscrowFlags {
  leaseEscrow?: boolean;
  trustEscrow?: boolean;
}

/** The escrow a deposit or withdrawal moves LILY into or out of, and how the output names it ("" for LilyDeals'). */
function escrowOf(addresses: LilyAddresses, o: EscrowFlags): { escrow?: Address; name: string } {
  if (o.leaseEscrow && o.trustEscrow)
    throw new LilyError({ code: "INVALID_INPUT", field: "--trust-escrow", message: "--trust-escrow and --lease-escrow name different escrows: choose one" });
  if (o.leaseEscrow) return { escrow: addresses.leases, name: "the leases escrow" };
  if (!o.trustEscrow) return { name: "" };
  // REJECT: a network without LilyTrustDeals opens trust deals on LilyDeals; there is no trust escrow to move LILY into
  if (!addresses.trustDeals)
    throw new LilyError({
      code: "INVALID_INPUT",
      field: "--trust-escrow",
      message: "--trust-escrow: this network has no LilyTrustDeals contract (its trust deals lock from the deals escrow)",
      hint: "leave out --trust-escrow, or use a network that names trustDeals (e.g. `lily devnet --trust-deals`)",
    });
  return { escrow: addresses.trustDeals, name: "the trust deals escrow" };
}

export function registerAccount(program: Command): void {
  withWallet(program.command("balance").description("show wallet and escrow balances")).action(async (o: { json?: boolean }, cmd: Command) => {
    const { jc, account } = jobCreatorFromFlags(cmd);
    const chain = jc.context.chain;
    const trustDeals = chain.addresses.trustDeals;
    const [wallet, escrow, leases, trust] = await Promise.all([
      tokenBalance(chain, { account: account.address }),
      escrowBalance(chain, { account: account.address }),
      escrowBalance(chain, { account: account.address, escrow: chain.addresses.leases }),
      trustDeals ? escrowBalance(chain, { account: account.address, escrow: trustDeals }) : undefined,
    ]);
    const out = createOutput({ json: o.json });
    out.line(`address  ${account.address}`);
    out.line(`wallet   ${lily(wallet)}`);
    out.line(`escrow   ${lily(escrow)} (free to lock in deals${trust === undefined ? "" : " on LilyDeals: every policy but trust"})`);
    if (trust !== undefined) out.line(`trust    ${lily(trust)} (free to lock in trust deals, on LilyTrustDeals)`);
    out.line(`leases   ${lily(leases)} (free to lock in inference leases: budgets, collateral)`);
    out.result({ address: account.address, wallet, escrow, leases, ...(trust !== undefined && { trust }) });
  });

  withWallet(
    program
      .command("deposit")
      .description("move LILY from the wallet into escrow")
      .argument("<amount>", "amount in LILY")
      .option("--lease-escrow", "into the leases escrow (a gateway's lease budgets, a model provider's collateral)")
      .option("--trust-escrow", "into the trust deals escrow (LilyTrustDeals), which trust-policy deals lock from on a network that has it"),
  ).action(async (amount: string, o: { json?: boolean } & EscrowFlags, cmd: Command) => {
    const value = tokenOption(amount, "amount");
    const { jc } = jobCreatorFromFlags(cmd);
    const chain = jc.context.chain;
    const into = escrowOf(chain.addresses, o);
    const r = await deposit(chain, { amount: value, ...(into.escrow && { escrow: into.escrow }) });
    const out = createOutput({ json: o.json });
    out.line(`deposited ${lily(value)}${into.name && ` into ${into.name}`} (tx ${r.txHash})`);
    out.result(r);
  });

  withWallet(
    program
      .command("withdraw")
      .description("move free LILY from escrow back to the wallet")
      .argument("<amount>", "amount in LILY")
      .option("--lease-escrow", "from the leases escrow")
      .option("--trust-escrow", "from the trust deals escrow (LilyTrustDeals)"),
  ).action(async (amount: string, o: { json?: boolean } & EscrowFlags, cmd: Command) => {
    const value = tokenOption(amount, "amount");
    const { jc } = jobCreatorFromFlags(cmd);
    const chain = jc.context.chain;
    const from = escrowOf(chain.addresses, o);
    const r = await withdraw(chain, { amount: value, ...(from.escrow && { escrow: from.escrow }) });
    const out = createOutput({ json: o.json });
    out.line(`withdrew ${lily(value)}${from.name && ` from ${from.name}`} (tx ${r.txHash})`);
    out.result(r);
  });
}
