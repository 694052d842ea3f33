import { moduleName, parse, type RegistryEntry } from "@lily/protocol";
import { moduleRegistryAbi } from "../generated/artifacts.ts";
import type { LilyClient } from "../client.ts";
import { withLilyErrors } from "../errors.ts";
import { toRegistryEntry } from "./moduleEntry.ts";
import { registryAddress } from "./registryAddress.ts";

export interface LatestModuleParameters {
  name: string;
}

/**
 * The highest published version of `name` by semver (a patch published later to an older line
 * does not displace a newer major). Fails with UNKNOWN_MODULE if nothing was published under it.
 */
export async function latestModule(client: LilyClient, params: LatestModuleParameters): Promise<RegistryEntry> {
  const name = parse(moduleName, params.name, "name");
  const [version, raw] = await withLilyErrors(() =>
    client.publicClient.readContract({ address: registryAddress(client), abi: moduleRegistryAbi, functionName: "latest", args: [name] }),
  );
  return toRegistryEntry(name, version, raw);
}
