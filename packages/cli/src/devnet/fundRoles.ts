// Give each devnet role gas and LILY from the deployer, and have it deposit into escrow once.
import { parseEther, type Address, type Hex, type LocalAccount } from "viem";
import { createLilyClient, deposit, escrowBalance, fundAccount, tokenBalance, type LilyAddresses } from "@lily/chain";

export interface Funding {
  account: LocalAccount;
  /** Tokens the role should hold in escrow (0: gas only, e.g. a mediator, who is paid into escrow). */
  escrow: bigint;
  /** Tokens to leave in the wallet besides, e.g. for the job creator to try `lily deposit`. */
  wallet?: bigint;
  /** Tokens the role should hold in the leases escrow (LilyLeases): a gateway's budgets, a model provider's collateral. */
  leases?: bigint;
  /** Tokens the role should hold in the trust deals escrow (LilyTrustDeals), when the devnet has one. */
  trust?: bigint;
}

export async function fundRoles(rpcUrl: string, addresses: LilyAddresses, deployer: LocalAccount, roles: Funding[]): Promise<void> {
  const bank = createLilyClient({ rpcUrl, account: deployer, addresses });
  for (const r of roles) {
    const client = createLilyClient({ rpcUrl, account: r.account, addresses });
    // What each escrow lacks: LilyDeals always, LilyLeases and LilyTrustDeals when asked for (and deployed).
    const wants = [
      { escrow: addresses.deals, amount: r.escrow },
      { escrow: addresses.leases, amount: r.leases ?? 0n },
      { escrow: addresses.trustDeals, amount: r.trust ?? 0n },
    ].filter((w): w is { escrow: Address; amount: bigint } => w.escrow !== undefined && w.amount > 0n);
    const needs = await Promise.all(
      wants.map(async (w) => {
        const have = await escrowBalance(client, { account: r.account.address, escrow: w.escrow });
        return { escrow: w.escrow, amount: w.amount > have ? w.amount - have : 0n };
      }),
    );
    const wallet = await tokenBalance(client, { account: r.account.address });
    const eth = await bank.publicClient.getBalance({ address: r.account.address as Hex });
    const want = needs.reduce((sum, n) => sum + n.amount, 0n) + (r.wallet ?? 0n);
    const tokens = wallet < want ? want - wallet : undefined;
    if (eth < parseEther("1") || tokens) await fundAccount(bank, { to: r.account.address, eth: eth < parseEther("1") ? parseEther("10") : undefined, tokens });
    for (const n of needs) if (n.amount > 0n) await deposit(client, { amount: n.amount, escrow: n.escrow });
  }
}
