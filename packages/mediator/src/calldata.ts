// Deal terms from a transaction's calldata. Every LilyDeals call that raises a dispute carries
// the full terms of the deal(s) it concerns (the contract stores only their hash), so decoding
// the transaction that emitted the event recovers them without trusting anyone: a deal's id is
// the hash of its terms, and the caller checks it.
import { decodeFunctionData, type Abi, type Address, type Hex } from "viem";
import { Deal, parse, toWire, types, type DealMessage } from "@lily/protocol";

export interface CalldataTerms {
  /** Every single Deal argument. */
  deals: DealMessage[];
  /** Every Deal[] argument (a replica group). */
  groups: DealMessage[][];
  /** Every address[] argument (e.g. a mediator list supplied with a challenge). */
  addressLists: Address[][];
}

const dealKeys = types.Deal.map((f) => f.name);

function isDealLike(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) && dealKeys.every((k) => k in v);
}

function isAddressList(v: unknown): v is Address[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string" && /^0x[0-9a-fA-F]{40}$/.test(x));
}

/** The deals and address lists among the arguments of `input`; empty if it is not a call in `abi`. */
export function termsInCalldata(abi: Abi, input: Hex): CalldataTerms {
  const found: CalldataTerms = { deals: [], groups: [], addressLists: [] };
  let args: readonly unknown[];
  try {
    args = decodeFunctionData({ abi, data: input }).args ?? [];
  } catch {
    return found; // not a direct call to this contract (e.g. through a wallet contract)
  }
  const asDeal = (v: unknown) => parse(Deal, toWire(v), "calldata.deal");
  for (const arg of args) {
    if (isDealLike(arg)) found.deals.push(asDeal(arg));
    else if (Array.isArray(arg) && arg.length > 0 && arg.every(isDealLike)) found.groups.push(arg.map(asDeal));
    else if (isAddressList(arg)) found.addressLists.push(arg);
  }
  return found;
}
