import { moduleName, parse, registryVersion, type RegistryEntry } from "@lily/protocol";
import { moduleRegistryAbi } from "../generated/artifacts.ts";
import type { LilyClient } from "../client.ts";
import { withLilyErrors } from "../errors.ts";
import { toRegistryEntry } from "./moduleEntry.ts";
import { registryAddress } from "./registryAddress.ts";

export interface GetModuleParameters {
  name: string;
  version: string;
}

/**
 * What the registry holds for `name@version`: its manifest CID, creator, royalty and publication
 * time. Fails with UNKNOWN_MODULE (RegistryUnknownName / RegistryUnknownVersion) if it was never
 * published, and with INVALID_INPUT naming the field for a malformed name or version.
 */
export async function getModule(client: LilyClient, params: GetModuleParameters): Promise<RegistryEntry> {
  const name = parse(moduleName, params.name, "name");
  const version = parse(registryVersion, params.version, "version");
  const raw = await withLilyErrors(() =>
    client.publicClient.readContract({ address: registryAddress(client), abi: moduleRegistryAbi, functionName: "get", args: [name, version] }),
  );
  return toRegistryEntry(name, version, raw);
}
