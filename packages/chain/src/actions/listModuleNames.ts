import { LilyError } from "@lily/protocol";
import { moduleRegistryAbi } from "../generated/artifacts.ts";
import type { LilyClient } from "../client.ts";
import { withLilyErrors } from "../errors.ts";
import { registryAddress } from "./registryAddress.ts";

/** The most names one call reads: an eth_call's gas is capped by the node. */
export const MAX_MODULE_NAMES_PAGE = 500;

export interface ListModuleNamesParameters {
  /** Position of the first name, in the order names were first published (default 0). */
  offset?: number;
  /** How many names at most (default and maximum MAX_MODULE_NAMES_PAGE). */
  limit?: number;
}

export interface ListModuleNamesReturnType {
  names: string[];
  /** How many names the registry holds in all. */
  total: number;
}

/** One page of the registry's module names, in the order they were first published. */
export async function listModuleNames(
  client: LilyClient,
  { offset = 0, limit = MAX_MODULE_NAMES_PAGE }: ListModuleNamesParameters = {},
): Promise<ListModuleNamesReturnType> {
  for (const [field, value, max] of [
    ["offset", offset, Number.MAX_SAFE_INTEGER],
    ["limit", limit, MAX_MODULE_NAMES_PAGE],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0 || value > max) {
      throw new LilyError({ code: "INVALID_INPUT", field, message: `${field}: must be an integer from 0 to ${max}, got ${value}` });
    }
  }
  const [names, total] = await withLilyErrors(() =>
    client.publicClient.readContract({
      address: registryAddress(client),
      abi: moduleRegistryAbi,
      functionName: "names",
      args: [BigInt(offset), BigInt(limit)],
    }),
  );
  return { names: [...names], total: Number(total) };
}
