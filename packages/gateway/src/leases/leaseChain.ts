// The chain side of the gateway's leases, over @lily/chain's lease actions: opening a lease both
// parties signed (the gateway sends it and pays its gas; one transaction per lease), reading where a
// lease stands, and taking its budget back when its provider never closed it in time.
import { leaseRecord, leaseWindows, openLease, reclaimLease, type LilyClient } from "@lily/chain";
import type { LeaseChain } from "./leaseManager.ts";

export function leaseChain(chain: LilyClient): LeaseChain {
  let claimWindow: Promise<number> | undefined;
  return {
    async openLease(lease, payerSignature, providerSignature) {
      const { txHash } = await openLease(chain, { lease, payerSignature, providerSignature });
      return txHash;
    },
    leaseState: async (leaseId) => (await leaseRecord(chain, { leaseId })).state,
    async reclaim(lease) {
      const { txHash } = await reclaimLease(chain, { lease });
      return txHash;
    },
    claimWindowSeconds() {
      // Kept once read, but not a failed read: one that met the chain node away (a restart) would
      // otherwise fail every later sweep with that old error.
      claimWindow ??= leaseWindows(chain).then(
        (w) => w.claimWindowSeconds,
        (e: unknown) => {
          claimWindow = undefined;
          throw e;
        },
      );
      return claimWindow;
    },
  };
}
