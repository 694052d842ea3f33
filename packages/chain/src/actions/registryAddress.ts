// The module registry's address from a client, or a CONFIG error saying it was built without one
// (a client made for the deals contract alone). Shared by the registry actions.
import type { Address } from "viem";
import { LilyError } from "@lily/protocol";
import type { LilyClient } from "../client.ts";

export function registryAddress(client: LilyClient): Address {
  const { registry } = client.addresses;
  if (!registry) {
    throw new LilyError({
      code: "CONFIG",
      field: "registry",
      message: "this chain client was built without the module registry's address",
      hint: "pass the deployment's `registry` address (network.json has it)",
    });
  }
  return registry;
}
