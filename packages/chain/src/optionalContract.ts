// The address of a contract a client may have been built without (the registry, LilyLeases,
// LilyTrustDeals), or a CONFIG error naming the field and how to get it.
import type { Address } from "viem";
import { LilyError } from "@lily/protocol";
import type { LilyAddresses } from "./deploy.ts";

type OptionalContract = "registry" | "leases" | "trustDeals";

export function optionalContract(addresses: Pick<LilyAddresses, OptionalContract>, field: OptionalContract, name: string, hint: string): Address {
  const address = addresses[field];
  if (!address) throw new LilyError({ code: "CONFIG", field, message: `this chain client was built without ${name}'s address`, hint });
  return address;
}
