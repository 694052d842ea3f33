// What every lease handler shares: who the provider is, the leases' signing domain, its lease book,
// the chain, the models it serves and on what rules, the answers in flight per lease, and where it
// writes down the blocks its records rely on.
import type { Hex, LocalAccount } from "viem";
import type { BlockRef } from "@lily/chain";
import type { Domain } from "@lily/protocol";
import type { Logger } from "@lily/node-kit";
import type { LeaseBook } from "./leaseBook.ts";
import type { LeaseChain } from "./leaseChain.ts";
import type { ServedModel } from "./servedModel.ts";
import type { ProposalRules } from "./checkLeaseProposal.ts";

/** Answers being generated under one lease: their worst-case cost is held against its budget. */
export interface InFlight {
  reserved: bigint;
  tickets: Set<string>;
}

export interface LeaseContext {
  account: LocalAccount;
  /** The LilyLeases domain leases, vouchers and receipts are signed under. */
  domain: Domain;
  book: LeaseBook;
  chain: LeaseChain;
  models: ReadonlyMap<string, ServedModel>;
  rules: Omit<ProposalRules, "models" | "provider">;
  /** How many worst-case answers a payer may leave unpaid. */
  creditAnswers: number;
  inFlight: Map<Hex, InFlight>;
  /** The last receipt seq handed out per lease (read from the book on first use). */
  seqs: Map<Hex, bigint>;
  /** Write down a block a record is about to rely on (the provider's lost-blocks watch checks it). */
  relyOn: (block: BlockRef) => void;
  logger: Logger;
  /** Milliseconds since the epoch. */
  clock: () => number;
}

/** The next receipt seq of a lease: handed out once, never reused (a crash may leave a gap). */
export function nextSeq(ctx: LeaseContext, id: Hex): bigint {
  const key = id.toLowerCase() as Hex;
  const seq = (ctx.seqs.get(key) ?? ctx.book.lastSeq(key)) + 1n;
  ctx.seqs.set(key, seq);
  return seq;
}

export const seconds = (ctx: Pick<LeaseContext, "clock">): number => Math.floor(ctx.clock() / 1000);
