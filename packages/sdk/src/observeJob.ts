// Read what the job creator needs to decide its next step (nextStep.ts) about one job: its
// journal entry, the solver's records and, once deals are signed, the chain. Only reads. A peer
// that does not answer leaves its part of the view empty, and the step waits for it. A deal routed
// to LilyTrustDeals is read there (routedDeal.ts); every other deal from LilyDeals, as before.
import type { Hex } from "viem";
import { dealRecord, getDealLogs, lilyDealsAbi, onTrustDeals, withLilyErrors } from "@lily/chain";
import { policyById } from "@lily/verification";
import { isLilyError, verifyRecord, type DealRecord } from "@lily/protocol";
import type { JobCreatorContext } from "./context.ts";
import { signedDeals, type JobEntry } from "./journal.ts";
import type { ChainDeal, JobView, SignedDeal } from "./nextStep.ts";
import { readRoutedDeal, type RoutedMemory } from "./routedDeal.ts";

/** What the wait loop remembers between passes. */
export interface LoopMemory {
  matchDeadlineMs: number;
  openGraceMs: number;
  openTried: boolean;
  /** Events read per deal, keyed by the state they were read in (they change only with it). */
  events: Map<Hex, { state: string; deal: ChainDeal }>;
  mediationTimeoutSeconds?: bigint;
  /** Routed trust deals: where each opened, and the block their search starts from. */
  routed: RoutedMemory;
  /** Since when (ms) each peer has not answered; `step`: any peer a step needed (the solver, the chain, the store). */
  down: { solver?: number; chain?: number; step?: number };
}

export async function observeJob(ctx: JobCreatorContext, entry: JobEntry, memory: LoopMemory, aborted: boolean): Promise<JobView> {
  const signed = signedDeals(entry);
  const [solver, chain] = await Promise.all([readSolver(ctx, entry, signed, memory), signed.length ? readChain(ctx, signed, memory) : undefined]);
  return {
    k: Math.max(1, policyById(entry.offer.policy)?.dealsPerJob(entry.offer.policyParam) ?? 1),
    signed,
    lapsed: entry.lapsed ?? [],
    ...(solver && { solver }),
    chain: chain ?? { now: 0n, deals: {}, mediationTimeoutSeconds: 0n },
    nowMs: Date.now(),
    matchDeadlineMs: memory.matchDeadlineMs,
    aborted,
    deadlineGraceSeconds: ctx.submit.deadlineGraceSeconds,
    openGraceMs: memory.openGraceMs,
    openTried: memory.openTried,
  };
}

/** Before a deal: the job offer and its proposals. After: the signed deals' records. */
async function readSolver(ctx: JobCreatorContext, entry: JobEntry, signed: SignedDeal[], memory: LoopMemory): Promise<JobView["solver"]> {
  try {
    if (signed.length === 0) {
      const job = await ctx.solver.getJobOffer({ params: { id: entry.jobOfferId } });
      return { job, deals: await Promise.all(job.dealIds.map((id) => ctx.solver.getDeal({ params: { id } }))) };
    }
    const deals = await Promise.all(signed.map((s) => ctx.solver.getDeal({ params: { id: s.dealId } })));
    delete memory.down.solver;
    return { deals: await Promise.all(deals.map((d, i) => withVerifiedResult(ctx, d, signed[i]!))) };
  } catch (e) {
    // The solver is only a messenger: when it is down or restarting, wait for it (before a match,
    // until the match timeout; after, for peerTimeoutMs).
    if (!isLilyError(e, "UNREACHABLE") && !isLilyError(e, "NOT_FOUND")) throw e;
    if (signed.length > 0) unanswered(ctx, memory, "solver", e);
    return undefined;
  }
}

/** Note that a peer did not answer; throw once it has been silent for longer than peerTimeoutMs. */
export function unanswered(ctx: JobCreatorContext, memory: LoopMemory, peer: keyof LoopMemory["down"], e: unknown): void {
  memory.down[peer] ??= Date.now();
  const since = memory.down[peer];
  if (Date.now() - since > ctx.submit.peerTimeoutMs) throw e;
}

/** The record with its signed Result only if the deal's provider really signed it for this deal. */
async function withVerifiedResult(ctx: JobCreatorContext, record: DealRecord, s: SignedDeal): Promise<DealRecord> {
  if (!record.result) return record;
  try {
    // REJECT: a signed result counts only if the deal's own provider signed it
    await verifyRecord(ctx.domain, "Result", record.result.result, record.result.signature, { signer: s.deal.provider, field: "result.signature" });
    return record;
  } catch {
    const { result: _forged, ...rest } = record;
    return rest;
  }
}

async function readChain(ctx: JobCreatorContext, signed: SignedDeal[], memory: LoopMemory): Promise<JobView["chain"] | undefined> {
  try {
    // The clock first, the states after: a deal still unopened in a state read at or after a block
    // whose time is past its openBy can never open. Read the other way round, a deal opened in
    // between could look lapsed.
    const block = await withLilyErrors(() => ctx.chain.publicClient.getBlock());
    const [deals, mediationTimeoutSeconds] = await Promise.all([
      Promise.all(signed.map((s) => readDeal(ctx, s, memory, block))),
      signed.length > 1 ? readMediationTimeout(ctx, memory) : 0n,
    ]);
    delete memory.down.chain;
    return { now: block.timestamp, deals: Object.fromEntries(signed.map((s, i) => [s.dealId, deals[i]!])), mediationTimeoutSeconds };
  } catch (e) {
    if (!isLilyError(e, "UNREACHABLE")) throw e;
    unanswered(ctx, memory, "chain", e);
    return undefined;
  }
}

/** States a deal reaches only through a committed result. */
const RESULT_STATES: readonly string[] = ["committed", "challenged", "settled", "slashed"];

async function readDeal(ctx: JobCreatorContext, s: SignedDeal, memory: LoopMemory, at: { number: bigint; timestamp: bigint }): Promise<ChainDeal> {
  const { dealId } = s;
  if (onTrustDeals(ctx.chain.addresses, s.deal)) {
    const read = await readRoutedDeal(ctx, s, memory.routed, at, memory.events.get(dealId));
    if (read.complete) memory.events.set(dealId, { state: read.deal.state, deal: read.deal });
    return read.deal;
  }
  const record = await dealRecord(ctx.chain, { dealId });
  const known = memory.events.get(dealId);
  if (known?.state === record.state) return { ...known.deal, challengedAt: record.challengedAt };
  const deal: ChainDeal = { state: record.state, challengedAt: record.challengedAt };
  // Where the contract stores the result (every policy but trust), its digest and time come from
  // the contract's record; under trust only the event log names it.
  if (record.committedAt > 0n) Object.assign(deal, { digest: record.resultDigest, committedAt: record.committedAt });
  let complete = true;
  if (record.state !== "none") {
    const events = await getDealLogs(ctx.chain, { dealId });
    const opened = events.find((e) => e.name === "DealOpened");
    const committed = events.find((e) => e.name === "ResultCommitted");
    if (opened) deal.openTx = opened.txHash;
    if (committed?.name === "ResultCommitted") {
      deal.commitTx = committed.txHash;
      if (deal.digest === undefined) {
        const block = await withLilyErrors(() => ctx.chain.publicClient.getBlock({ blockNumber: committed.blockNumber }));
        Object.assign(deal, { digest: committed.args.resultDigest, committedAt: block.timestamp });
      }
    }
    // A node can answer a state read before its log index shows the same block (seen after a chain
    // node restart): a read whose log lags its state is not kept, so the next pass reads it again
    // rather than waiting forever for a result already settled.
    complete = opened !== undefined && (!RESULT_STATES.includes(record.state) || committed !== undefined);
  }
  if (complete) memory.events.set(dealId, { state: record.state, deal });
  return deal;
}

async function readMediationTimeout(ctx: JobCreatorContext, memory: LoopMemory): Promise<bigint> {
  memory.mediationTimeoutSeconds ??= await withLilyErrors(() =>
    ctx.chain.publicClient.readContract({ address: ctx.chain.addresses.deals, abi: lilyDealsAbi, functionName: "MEDIATION_TIMEOUT" }),
  );
  return memory.mediationTimeoutSeconds;
}
