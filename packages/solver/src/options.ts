// Options of the solver process and their defaults; the CLI maps flags onto them.
import type { Address } from "viem";
import type { Domain } from "@lily/protocol";

export interface SolverOptions {
  /** The SQLite file holding every offer and deal; a restarted solver resumes from it. */
  dbPath: string;
  host: string;
  port: number;
  /** The chain and LilyDeals contract every signature is bound to. */
  domain: Domain;
  /** The LilyLeases contract: the verifying contract of model offers (with `domain.chainId`). */
  leases: Address;
  /** The LilyTrustDeals contract, if trust deals open there (their signatures and chain events are its). */
  trustDeals?: Address;
  /** The payment token, reported by `health` so clients can check they share one deployment. */
  token: Address;
  /**
   * The chain's JSON-RPC endpoint. The solver only reads from it: escrow balances (only offers
   * backed by escrow are matched), chain time, and the deal events that end deals.
   */
  rpcUrl: string;
  /** The block LilyDeals was deployed in: where the first scan of deal events starts. */
  deployBlock: number;
  /** Most blocks one `eth_getLogs` request may span (RPC providers cap it). */
  maxBlockRange: number;
  /**
   * The time both parties have to sign a proposed deal and have it opened: its `openBy` is the
   * proposal time plus this. A party that has not signed by then is excluded.
   */
  signWindowSeconds: number;
  /** How often the chain is followed, unsigned proposals swept and open job offers re-matched. */
  sweepIntervalMs: number;
  /** Longest a job offer may stay on the book (its `expiresAt` from now). */
  maxJobOfferTtlSeconds: number;
  /** Longest a resource offer may stay on the book (its `expiresAt` from now). */
  maxResourceOfferTtlSeconds: number;
  /** Longest job (its `timeoutSeconds`) the solver proposes: the provider's collateral is locked that long. */
  maxJobTimeoutSeconds: number;
  /** Longest a model offer may stay listed (its `expiresAt` from now). */
  maxModelOfferTtlSeconds: number;
  /** Most models one provider may have offers for at once (expired offers kept to order nonces count too, until evicted). */
  maxModelOffersPerProvider: number;
}

export const defaultSolverOptions: Omit<SolverOptions, "dbPath" | "domain" | "leases" | "token" | "rpcUrl" | "deployBlock"> = {
  host: "127.0.0.1",
  port: 0,
  maxBlockRange: 2000,
  signWindowSeconds: 60,
  sweepIntervalMs: 1000,
  maxJobOfferTtlSeconds: 3600,
  maxResourceOfferTtlSeconds: 86_400,
  maxJobTimeoutSeconds: 86_400,
  maxModelOfferTtlSeconds: 86_400,
  maxModelOffersPerProvider: 64,
};
