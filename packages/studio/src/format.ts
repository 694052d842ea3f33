// Amounts and identifiers as people read them: LILY has 18 decimals and every amount on the wire is
// a decimal string of base units; long hex ids are shortened with the whole id kept in a title.
import { formatUnits, parseUnits } from "viem";

export const lily = (baseUnits: string | bigint): string => `${formatUnits(BigInt(baseUnits), 18)} LILY`;

/** LILY as typed by a person ("0.5") to base units ("500000000000000000"). */
export const toBaseUnits = (amount: string): string => parseUnits(amount.trim(), 18).toString();

export const short = (id: string): string => (id.length > 14 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id);

export function priceRange(p: { min?: string; max?: string }): string {
  if (p.min === undefined || p.max === undefined) return "no offers";
  return p.min === p.max ? lily(p.min) : `${lily(p.min)} – ${lily(p.max)}`;
}
