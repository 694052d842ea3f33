// Amounts as people read them: LILY has 18 decimals, like ether, and every amount on the wire is
// in its base unit (wei). One formatter, so every message names amounts the same way.
import { formatEther } from "viem";

/** `1500000000000000000n` → `1.5 LILY`. */
export function formatLily(wei: bigint): string {
  return `${formatEther(wei)} LILY`;
}
