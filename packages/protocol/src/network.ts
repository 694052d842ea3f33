// How to reach one Lily network: its chain and deployment, its solver and its store. Every
// role's options and the job creator's client start from this; the CLI reads it from network.json.
import type { Address } from "viem";

export interface NetworkEndpoints {
  /** EVM JSON-RPC endpoint. */
  rpcUrl: string;
  chainId: number;
  token: Address;
  /** The LilyDeals contract: every deal's EIP-712 verifying contract. */
  deals: Address;
  /** The ModuleRegistry contract (Ampli): name@version -> manifest CID, creator and royalty. */
  registry: Address;
  /** The LilyLeases contract (Anura): inference leases, the verifying contract of leases, vouchers and receipts. */
  leases: Address;
  /**
   * The LilyTrustDeals contract, if the network opens trust deals there (in batches, no storage per
   * deal); without it trust deals open on LilyDeals like every other.
   */
  trustDeals?: Address;
  /** The block LilyDeals was deployed in: where event scans start. */
  deployBlock: number;
  solverUrl: string;
  storeUrl: string;
}
