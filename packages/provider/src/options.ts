// The resource provider's options and defaults; the CLI maps flags onto them.
import type { NetworkEndpoints } from "@lily/protocol";
import type { Address, LocalAccount } from "viem";
import type { Behaviour } from "./adversary.ts";

export interface ProviderOptions extends NetworkEndpoints {
  account: LocalAccount;
  dbPath: string;
  /** Scratch space for job inputs and outputs. */
  workDir: string;
  resources: { cpu: number; memoryMb: number; gpu: number; vramMb: number };
  /** Price per job and collateral staked per deal, in token base units. */
  price: bigint;
  collateral: bigint;
  /** Module manifest CIDs this provider agrees to run. */
  modules: string[];
  mediators: Address[];
  /** A resource offer is re-signed and re-posted before it expires. */
  offerTtlSeconds: number;
  pollMs: number;
  /** `honest` except on a devnet showing how misbehaviour is caught (see adversary.ts). */
  behaviour: Behaviour;
}

export const defaultProviderOptions = {
  offerTtlSeconds: 3600,
  pollMs: 1000,
  mediators: [] as Address[],
  behaviour: "honest" as Behaviour,
};
