import type { Address } from "viem";
import { lilyTokenAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { withLilyErrors } from "../errors.ts";
import { writeContract } from "../send.ts";

export interface TransferTokenParameters {
  to: Address;
  /** LILY in wei. */
  amount: bigint;
}

/** Send LILY from the account's wallet to another address. */
export async function transferToken(client: LilyClient, { to, amount }: TransferTokenParameters): Promise<WriteResult> {
  const { addresses } = requireAccount(client);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, { address: addresses.token, abi: lilyTokenAbi, functionName: "transfer", args: [to, amount] });
    return written(await confirm(client, hash));
  });
}
