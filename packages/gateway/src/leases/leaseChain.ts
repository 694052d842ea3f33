// The chain side of the gateway's leases, over @lily/chain's lease actions: opening a lease both
// parties signed (the gateway sends it and pays its gas; one transaction per lease).
import { openLease, type LilyClient } from "@lily/chain";
import type { LeaseChain } from "./leaseManager.ts";

export function leaseChain(chain: LilyClient): LeaseChain {
  return {
    async openLease(lease, payerSignature, providerSignature) {
      const { txHash } = await openLease(chain, { lease, payerSignature, providerSignature });
      return txHash;
    },
  };
}
