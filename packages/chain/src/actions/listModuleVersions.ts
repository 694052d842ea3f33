import { compareVersions, moduleName, parse } from "@lily/protocol";
import { moduleRegistryAbi } from "../generated/artifacts.ts";
import type { LilyClient } from "../client.ts";
import { withLilyErrors } from "../errors.ts";
import { registryAddress } from "./registryAddress.ts";

export interface ListModuleVersionsParameters {
  name: string;
}

/** Versions read per call: each is formatted on chain, and an eth_call's gas is capped by the node. */
const PAGE = 200;

/**
 * Every published version of `name`, in ascending semver order (the last is what `latestModule`
 * returns). Fails with UNKNOWN_MODULE if nothing was published under it.
 */
export async function listModuleVersions(client: LilyClient, params: ListModuleVersionsParameters): Promise<string[]> {
  const name = parse(moduleName, params.name, "name");
  const { publicClient } = client;
  const registry = registryAddress(client);
  return withLilyErrors(async () => {
    const all: string[] = [];
    for (let total = Number.POSITIVE_INFINITY; all.length < total; ) {
      const [page, count] = await publicClient.readContract({
        address: registry,
        abi: moduleRegistryAbi,
        functionName: "versions",
        args: [name, BigInt(all.length), BigInt(PAGE)],
      });
      total = Number(count);
      all.push(...page);
      if (page.length === 0) break; // a count that shrank cannot happen (versions are never removed); never loop on it
    }
    return all.sort(compareVersions);
  });
}
