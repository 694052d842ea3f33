import { formatEther, type Address } from "viem";
import { LilyError } from "@lily/protocol";
import { lilyDealsAbi, lilyTokenAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { withLilyErrors } from "../errors.ts";
import { writeContract } from "../send.ts";

export interface DepositParameters {
  /** LILY in wei, moved from the account's wallet into its free escrow balance. */
  amount: bigint;
  /**
   * The escrow contract to deposit into: LilyDeals by default, or LilyLeases
   * (`leasesAddress(client.addresses)`), which keeps balances of its own for leases.
   */
  escrow?: Address;
}

export interface DepositReturnType extends WriteResult {
  /** The approval sent first, when the allowance did not already cover `amount`. */
  approval?: WriteResult;
}

/**
 * Deposit LILY into escrow, approving the escrow contract first if needed. Fails with
 * INVALID_INPUT, sending nothing, when the wallet holds less than `amount`.
 */
export async function deposit(client: LilyClient, { amount, escrow }: DepositParameters): Promise<DepositReturnType> {
  const { publicClient, account, addresses } = requireAccount(client);
  const into = escrow ?? addresses.deals;
  return withLilyErrors(async () => {
    const held = await publicClient.readContract({ address: addresses.token, abi: lilyTokenAbi, functionName: "balanceOf", args: [account.address] });
    if (held < amount) {
      throw new LilyError({
        code: "INVALID_INPUT",
        field: "amount",
        message: `${account.address} holds ${formatEther(held)} LILY, less than the ${formatEther(amount)} LILY to deposit`,
        details: { held: held.toString(), amount: amount.toString() },
      });
    }
    let approval: WriteResult | undefined;
    const allowance = await publicClient.readContract({
      address: addresses.token,
      abi: lilyTokenAbi,
      functionName: "allowance",
      args: [account.address, into],
    });
    if (allowance < amount) {
      const hash = await writeContract(client, { address: addresses.token, abi: lilyTokenAbi, functionName: "approve", args: [into, amount] });
      approval = written(await confirm(client, hash));
    }
    // LilyDeals and LilyLeases share the Escrow ABI for deposits.
    const hash = await writeContract(client, { address: into, abi: lilyDealsAbi, functionName: "deposit", args: [amount] });
    return { ...written(await confirm(client, hash)), approval };
  });
}
