// The gateway's options and their defaults (the CLI maps `lily gateway` flags onto them).
import type { Hex, LocalAccount } from "viem";
import type { NetworkEndpoints } from "@lily/protocol";

export interface GatewayOptions {
  network: NetworkEndpoints;
  /** The gateway's account: it signs leases and vouchers and pays providers from its leases escrow. */
  account: LocalAccount;
  /** Directory for the gateway's SQLite databases. */
  home: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The origin users reach the gateway at (sign-in messages name its host); defaults to the listening URL. */
  publicUrl?: string;
  /** Budget locked per lease, token base units. */
  leaseBudget: bigint;
  /** How long a lease serves before it is settled. */
  leaseSeconds: number;
  /** The mediator that audits sampled answers, by its URL (its address is asked from it); none when absent. */
  mediatorUrl?: string;
  /** Share of temperature-0 answers sent to audit, in basis points. */
  auditBps: number;
  /** Paid to the mediator out of a provider's collateral when an audit proves an answer wrong. */
  mediationFee: bigint;
  /** max_tokens when a chat request gives none (capped by the model's context). */
  defaultMaxTokens: number;
  /** Seconds a provider that failed is passed over before it is tried again. */
  providerCooldownSeconds: number;
  /** Answers in flight on one lease before another provider of the model is leased too. */
  busyAnswers: number;
  /** How often expired leases are retired, undelivered vouchers sent again and abandoned leases reclaimed. */
  sweepSeconds: number;
  /** The built studio served at `/`; default @lily/studio's dist folder. */
  studioDir?: string;
  /**
   * A development account's private key, handed to anyone who asks at GET /v1/dev/account so the
   * studio can sign in without a wallet. Only for a devnet (whose accounts hold play money).
   */
  devAccountKey?: Hex;
}

export const gatewayDefaults = {
  host: "127.0.0.1",
  port: 0,
  leaseBudget: 10n ** 18n, // 1 LILY
  leaseSeconds: 3600,
  auditBps: 0,
  mediationFee: 0n,
  defaultMaxTokens: 512,
  providerCooldownSeconds: 60,
  sweepSeconds: 10,
  busyAnswers: 2,
} satisfies Partial<GatewayOptions>;

export type GatewayOptionsInput = Pick<GatewayOptions, "network" | "account" | "home"> & Partial<Omit<GatewayOptions, "network" | "account" | "home">>;

export function withDefaults(opts: GatewayOptionsInput): GatewayOptions {
  return { ...gatewayDefaults, ...opts };
}
