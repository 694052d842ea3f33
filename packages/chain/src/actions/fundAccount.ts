import type { Address } from "viem";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { withLilyErrors } from "../errors.ts";
import { transferToken } from "./transferToken.ts";
import { sendValue } from "../send.ts";

export interface FundAccountParameters {
  to: Address;
  /** ETH in wei, for gas. */
  eth?: bigint;
  /** LILY in wei. */
  tokens?: bigint;
}

export interface FundAccountReturnType {
  eth?: WriteResult;
  tokens?: WriteResult;
}

/** Give a fresh account ETH for gas and LILY to deposit: how a devnet funds its parties. */
export async function fundAccount(client: LilyClient, { to, eth, tokens }: FundAccountParameters): Promise<FundAccountReturnType> {
  requireAccount(client);
  const result: FundAccountReturnType = {};
  if (eth) {
    result.eth = await withLilyErrors(async () => written(await confirm(client, await sendValue(client, { to, value: eth }))));
  }
  if (tokens) result.tokens = await transferToken(client, { to, amount: tokens });
  return result;
}
