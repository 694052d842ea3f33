import type { Address } from "viem";
import { moduleName, parse } from "@lily/protocol";
import { moduleRegistryAbi } from "../generated/artifacts.ts";
import type { LilyClient } from "../client.ts";
import { withLilyErrors } from "../errors.ts";
import { registryAddress } from "./registryAddress.ts";

export interface ModuleNameCreatorParameters {
  name: string;
}

/** The creator that holds `name` in the registry (the only account that may publish under it), or undefined if nobody does yet. */
export async function moduleNameCreator(client: LilyClient, params: ModuleNameCreatorParameters): Promise<Address | undefined> {
  const name = parse(moduleName, params.name, "name");
  const creator = await withLilyErrors(() =>
    client.publicClient.readContract({ address: registryAddress(client), abi: moduleRegistryAbi, functionName: "creatorOf", args: [name] }),
  );
  return BigInt(creator) === 0n ? undefined : creator;
}
