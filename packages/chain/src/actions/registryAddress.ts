// The module registry's address from a client, or a CONFIG error saying it was built without one
// (a client made for the deals contract alone). Shared by the registry actions.
import type { Address } from "viem";
import type { LilyClient } from "../client.ts";
import { optionalContract } from "../optionalContract.ts";

export function registryAddress(client: LilyClient): Address {
  return optionalContract(client.addresses, "registry", "the module registry", "pass the deployment's `registry` address (network.json has it)");
}
