// Owners are compared as checksummed addresses, so the same wallet written in any case is one owner.
import { getAddress, isAddress, type Address } from "viem";
import { LilyError } from "@lily/protocol";

export function ownerAddress(value: string, field = "owner"): Address {
  if (!isAddress(value, { strict: false }))
    throw new LilyError({ code: "INVALID_INPUT", field, message: `${field} must be an address, not ${JSON.stringify(value)}` });
  return getAddress(value);
}
