// Give each devnet role gas and LILY from the deployer, and have it deposit into escrow once.
import { parseEther, type Hex, type LocalAccount } from "viem";
import { createLilyClient, deposit, escrowBalance, fundAccount, tokenBalance, type LilyAddresses } from "@lily/chain";

export interface Funding {
  account: LocalAccount;
  /** Tokens the role should hold in escrow (0: gas only, e.g. a mediator, who is paid into escrow). */
  escrow: bigint;
  /** Tokens to leave in the wallet besides, e.g. for the job creator to try `lily deposit`. */
  wallet?: bigint;
  /** Tokens the role should hold in the leases escrow (LilyLeases): a gateway's budgets, a model provider's collateral. */
  leases?: bigint;
}

export async function fundRoles(rpcUrl: string, addresses: LilyAddresses, deployer: LocalAccount, roles: Funding[]): Promise<void> {
  const bank = createLilyClient({ rpcUrl, account: deployer, addresses });
  for (const r of roles) {
    const client = createLilyClient({ rpcUrl, account: r.account, addresses });
    const have = await escrowBalance(client, { account: r.account.address });
    const need = r.escrow > have ? r.escrow - have : 0n;
    const haveLeases = r.leases ? await escrowBalance(client, { account: r.account.address, escrow: addresses.leases }) : 0n;
    const needLeases = r.leases && r.leases > haveLeases ? r.leases - haveLeases : 0n;
    const wallet = await tokenBalance(client, { account: r.account.address });
    const eth = await bank.publicClient.getBalance({ address: r.account.address as Hex });
    const want = need + needLeases + (r.wallet ?? 0n);
    const tokens = wallet < want ? want - wallet : undefined;
    if (eth < parseEther("1") || tokens) await fundAccount(bank, { to: r.account.address, eth: eth < parseEther("1") ? parseEther("10") : undefined, tokens });
    if (need > 0n) await deposit(client, { amount: need });
    if (needLeases > 0n) await deposit(client, { amount: needLeases, escrow: addresses.leases });
  }
}
