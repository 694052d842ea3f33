// The studio's History and job pages, and challenging a result, for the job's owner only:
//   GET  /v1/history               the caller's jobs with status, cost and verification outcome
//   GET  /v1/jobs/:id/record       every signed record of the job's life (the job offer, the
//                                  resource offer and the deal as matched, the result), each with
//                                  its id (EIP-712 hash or CID), signers and whether each signature
//                                  verifies, and every transaction of its deals with hash and gas
//   POST /v1/jobs/:id/challenge    dispute an optimistic result ({reason?}): a mediator re-runs it
// The gateway is the job creator of every job it runs, so it challenges for its user; the checks
// below refuse before any transaction whatever the chain would refuse anyway (no result, another
// policy, a closed window, a second challenge), so a refusal costs no gas and says why.
// Signatures are verified here rather than trusted from the solver: a record the solver altered
// shows up as unverified on the page instead of as the provider's word.
import * as z from "zod";
import { stringToHex, type Hex } from "viem";
import { dealDomain, routedDealEvents, routedDealRecord, verifyDealSignature, type DealStateName } from "@lily/chain";
import { LilyError, Policy, cidFromDigest, isLilyError, toWire, verifyRecord, type DealRecord, type ResourceOfferRecord } from "@lily/protocol";
import { challengeJob, signedDeals, type JobCreator, type JobEntry, type SignedDeal } from "@lily/sdk";
import type { GatewayContext } from "../context.ts";
import type { Caller } from "./caller.ts";
import { jsonBody, sendJson, type Route } from "./router.ts";
import { jobOutcome, type DealFacts, type JobOutcome } from "./jobOutcome.ts";
import { jobView } from "./jobRoutes.ts";
import type { ChallengeFollower } from "../challenges.ts";

export const ChallengeRequest = z.strictObject({
  reason: z
    .string()
    .max(32)
    .refine((s) => new TextEncoder().encode(s).length <= 32, "at most 32 bytes (recorded on chain)")
    .optional(),
});

export interface JobRecordDeps {
  creator: JobCreator;
  /** Unix seconds; default the wall clock (a test network whose chain time moved passes its own). */
  now?: () => number;
  /** Follows each challenge sent until its window closes, and sends it again if the chain node lost it. */
  challenges?: ChallengeFollower;
}

/** How many jobs' chain state the History reads at once. */
const READ_CONCURRENCY = 8;

export function jobRecordRoutes(gw: GatewayContext, deps: JobRecordDeps): Route[] {
  const ctx = deps.creator.context;
  const journal = ctx.journal;
  const domain = dealDomain(ctx.chain.addresses);
  /** Facts of deals that can no longer change (settled, slashed, timed out), read once. */
  const finalFacts = new Map<string, DealFacts>();
  /** Deals a challenge is being sent for: a second request while the first is in flight is refused. */
  const challenging = new Set<string>();

  function ownedJob(caller: Caller, id: string): JobEntry {
    const row = gw.db.prepare("SELECT owner FROM jobs WHERE id = ?").get(id.toLowerCase()) as { owner: string } | undefined;
    const entry = row && journal.get(id as Hex);
    if (!row || !entry) throw new LilyError({ code: "NOT_FOUND", field: "id", message: `no job ${id}` });
    // REJECT: a user sees and challenges only their own jobs
    if (row.owner.toLowerCase() !== caller.owner.toLowerCase()) throw new LilyError({ code: "FORBIDDEN", field: "id", message: `job ${id} is not yours` });
    return entry;
  }

  async function factsOf(s: SignedDeal): Promise<DealFacts> {
    const { dealId, deal } = s;
    const known = finalFacts.get(dealId);
    if (known) return known;
    const [record, events] = await Promise.all([routedDealRecord(ctx.chain, s), routedDealEvents(ctx.chain, s)]);
    const facts: DealFacts = {
      dealId,
      deal,
      state: record.state,
      committedAt: record.committedAt,
      events: events.map((e) => ({
        name: e.name,
        args: e.args as Record<string, unknown>,
        txHash: e.txHash,
        blockNumber: e.blockNumber,
        logIndex: e.logIndex,
        gasUsed: e.gasUsed,
        ...("batchSize" in e && { batchSize: e.batchSize }),
      })),
    };
    if (FINAL_STATES.has(record.state)) finalFacts.set(dealId, facts);
    return facts;
  }

  /** The chain's time: the latest block's, or the clock's when blocks lag behind it (a quiet devnet mines none). */
  async function chainNow(): Promise<number> {
    const block = await ctx.chain.publicClient.getBlock({ blockTag: "latest" });
    return Math.max(Number(block.timestamp), deps.now?.() ?? Math.floor(Date.now() / 1000));
  }

  async function outcomeOf(e: JobEntry, now: number): Promise<{ outcome: JobOutcome; facts: DealFacts[] }> {
    const facts = await Promise.all(signedDeals(e).map(factsOf));
    return { facts, outcome: jobOutcome({ stage: e.stage, policy: e.offer.policy, policyParam: e.offer.policyParam, deals: facts, now }) };
  }

  const outcomeView = (o: JobOutcome) => ({
    status: o.status,
    cost: { price: o.cost.price.toString(), paid: o.cost.paid?.toString() ?? null, received: o.cost.received.toString() },
    verification: {
      policy: o.verification.policy,
      checked: o.verification.checked,
      challenged: o.verification.challenged,
      verdict: o.verification.verdict,
      window_closes_at: o.verification.windowClosesAt,
      challengeable: o.verification.challengeable,
    },
  });

  /** Verify one signature; a failure is shown, not thrown: the page reports what does not hold. */
  async function check(verify: () => Promise<void>): Promise<{ verified: boolean; problem: string | null }> {
    try {
      await verify();
      return { verified: true, problem: null };
    } catch (e) {
      if (isLilyError(e, "BAD_SIGNATURE")) return { verified: false, problem: e.message };
      throw e;
    }
  }

  /** A record the solver may no longer hold (a restarted or replaced solver): absent, not an error. */
  async function fromSolver<T>(read: () => Promise<T>): Promise<T | undefined> {
    try {
      return await read();
    } catch (e) {
      if (isLilyError(e, "NOT_FOUND") || isLilyError(e, "UNREACHABLE")) return undefined;
      throw e;
    }
  }

  async function records(e: JobEntry, facts: DealFacts[]) {
    const out: unknown[] = [];
    out.push({
      kind: "job-offer",
      label: "Signed job offer",
      id: e.jobOfferId,
      id_kind: "eip712",
      signers: e.signature
        ? [
            {
              role: "job creator",
              address: e.offer.jobCreator,
              signature: e.signature,
              ...(await check(() => verifyRecord(ctx.domain, "JobOffer", e.offer, e.signature!))),
            },
          ]
        : [],
      body: toWire(e.offer),
    });
    for (const route of signedDeals(e)) {
      const { dealId, deal } = route;
      const solverDeal: DealRecord | undefined = await fromSolver(() => ctx.solver.getDeal({ params: { id: dealId } }));
      const resource: ResourceOfferRecord | undefined = await fromSolver(() => ctx.solver.getResourceOffer({ params: { id: deal.resourceOffer } }));
      if (resource)
        out.push({
          kind: "resource-offer",
          label: "Provider's resource offer",
          deal: dealId,
          id: resource.id,
          id_kind: "eip712",
          signers: [
            {
              role: "provider",
              address: resource.offer.provider,
              signature: resource.signature,
              ...(await check(() => verifyRecord(domain, "ResourceOffer", resource.offer, resource.signature))),
            },
          ],
          body: toWire(resource.offer),
        });
      const sig = (role: string, address: Hex, signature: Hex | undefined) =>
        signature
          ? check(() => verifyDealSignature(ctx.chain.addresses, route, signature, { signer: address, field: "signature" })).then((c) => ({
              role,
              address,
              signature,
              ...c,
            }))
          : Promise.resolve({ role, address, signature: null, verified: false, problem: "the solver no longer holds this signature" });
      out.push({
        kind: "deal",
        label: "Deal as matched",
        deal: dealId,
        id: dealId,
        id_kind: "eip712",
        signers: await Promise.all([
          sig("job creator", deal.jobCreator, solverDeal?.jobCreatorSignature),
          sig("provider", deal.provider, solverDeal?.providerSignature),
        ]),
        body: toWire(deal),
      });
      const committed = facts.find((f) => f.dealId === dealId)?.events.find((x) => x.name === "ResultCommitted");
      const onChain = committed ? cidFromDigest(committed.args.resultDigest as Hex) : null;
      const signed = solverDeal?.result;
      if (signed || onChain)
        out.push({
          kind: "result",
          label: "Result",
          deal: dealId,
          id: signed?.result.result ?? onChain,
          id_kind: "cid",
          // The CID the provider committed on chain: the result is bound to it, whatever any record says.
          on_chain: onChain,
          matches_chain: signed && onChain ? signed.result.result === onChain : null,
          signers: signed
            ? [
                {
                  role: "provider",
                  address: signed.result.provider,
                  signature: signed.signature,
                  ...(await check(() => verifyRecord(domain, "Result", signed.result, signed.signature, { signer: deal.provider }))),
                },
              ]
            : [],
          body: signed ? toWire(signed.result) : null,
        });
    }
    return out;
  }

  const transactions = (facts: DealFacts[]) =>
    facts
      .flatMap((f) => f.events.map((e) => ({ f, e })))
      .sort((a, b) => (a.e.blockNumber === b.e.blockNumber ? a.e.logIndex - b.e.logIndex : a.e.blockNumber < b.e.blockNumber ? -1 : 1))
      .map(({ f, e }) => ({
        name: e.name,
        deal: f.dealId,
        tx: e.txHash,
        block: e.blockNumber.toString(),
        gas_used: e.gasUsed.toString(),
        // A batch transaction carries many deals: the gas is the whole transaction's.
        ...(e.batchSize !== undefined && { batch_size: e.batchSize }),
        args: toWire(e.args),
      }));

  /** Why this job cannot be challenged now, or undefined when it can. Order: the most basic reason first. */
  function refusal(e: JobEntry, o: JobOutcome, facts: DealFacts[], now: number): LilyError | undefined {
    const f = facts[0];
    if (!f || f.state === "none" || f.state === "open")
      return new LilyError({ code: "CONFLICT", field: "result", message: `job ${e.jobOfferId} has no result to challenge yet` });
    // REJECT: only optimistic results can be challenged; other policies check themselves (or nobody does)
    if (e.offer.policy !== Policy.optimistic)
      return new LilyError({
        code: "CONFLICT",
        field: "policy",
        message: `job ${e.jobOfferId} ran under ${o.verification.policy}: only results under the optimistic policy can be challenged`,
      });
    // REJECT: one challenge per result; the mediator's ruling is final
    if (o.verification.challenged || f.state === "challenged") {
      const tx = f.events.find((x) => x.name === "DealChallenged")?.txHash;
      return new LilyError({ code: "CONFLICT", field: "challenge", message: `job ${e.jobOfferId} was already challenged${tx ? ` (tx ${tx})` : ""}` });
    }
    // REJECT: after the window the result stands
    if (f.state !== "committed" || (o.verification.windowClosesAt !== null && now >= o.verification.windowClosesAt))
      return new LilyError({
        code: "CONFLICT",
        field: "challenge_window",
        message: `the challenge window of job ${e.jobOfferId} closed${o.verification.windowClosesAt ? ` at ${new Date(o.verification.windowClosesAt * 1000).toISOString()}` : ""}: the result stands`,
      });
    return undefined;
  }

  return [
    {
      method: "GET",
      path: "/v1/history",
      handler: async (req) => {
        const caller = gw.auth.anyCaller(req.req);
        const rows = gw.db.prepare("SELECT id FROM jobs WHERE owner = ? ORDER BY created_at DESC LIMIT 200").all(caller.owner) as { id: string }[];
        const entries = rows.map((r) => journal.get(r.id as Hex)).filter((e) => e !== undefined);
        const now = await chainNow();
        const data: unknown[] = [];
        for (let i = 0; i < entries.length; i += READ_CONCURRENCY) {
          const batch = entries.slice(i, i + READ_CONCURRENCY);
          const outcomes = await Promise.all(batch.map((e) => outcomeOf(e, now)));
          for (const [j, e] of batch.entries()) data.push({ ...jobView(e), ...outcomeView(outcomes[j]!.outcome) });
        }
        sendJson(req.res, 200, { object: "list", data }, { "cache-control": "no-store" });
      },
    },
    {
      method: "GET",
      path: "/v1/jobs/:id/record",
      handler: async (req) => {
        const entry = ownedJob(gw.auth.anyCaller(req.req), req.params.id!);
        const now = await chainNow();
        const { outcome, facts } = await outcomeOf(entry, now);
        sendJson(
          req.res,
          200,
          {
            id: entry.jobOfferId,
            module: entry.module,
            stage: entry.stage,
            error: entry.error ?? null,
            created_at: Math.floor(entry.createdAt / 1000),
            chain_id: ctx.chain.addresses.chainId,
            deals_contract: ctx.chain.addresses.deals,
            now,
            ...outcomeView(outcome),
            deals: facts.map((f) => ({ id: f.dealId, state: f.state, price: f.deal.price.toString(), collateral: f.deal.collateral.toString() })),
            records: await records(entry, facts),
            transactions: transactions(facts),
          },
          { "cache-control": "no-store" },
        );
      },
    },
    {
      method: "POST",
      path: "/v1/jobs/:id/challenge",
      handler: async (req) => {
        const entry = ownedJob(gw.auth.anyCaller(req.req), req.params.id!);
        const body = await jsonBody(req, ChallengeRequest);
        const dealId = entry.dealId;
        // REJECT: a second request while the first challenge is being sent
        if (dealId && challenging.has(dealId))
          throw new LilyError({ code: "CONFLICT", field: "challenge", message: `a challenge of job ${entry.jobOfferId} is being sent` });
        if (dealId) finalFacts.delete(dealId);
        const now = await chainNow();
        const { outcome, facts } = await outcomeOf(entry, now);
        const refused = refusal(entry, outcome, facts, now);
        if (refused) throw refused;
        challenging.add(dealId!);
        try {
          const reason = body.reason ? stringToHex(body.reason, { size: 32 }) : undefined;
          const sent = await challengeJob(ctx, entry.jobOfferId, reason).catch((e: unknown) => {
            // The chain is the judge: a race with finalize (the window closing as we send) is a refusal, not a crash.
            if (isLilyError(e, "CHAIN_REVERT"))
              throw new LilyError({ code: "CONFLICT", field: "challenge", message: `the chain refused the challenge: ${e.message}`, cause: e });
            throw e;
          });
          deps.challenges?.record({ dealId: sent.dealId, jobOfferId: entry.jobOfferId, reason, txHash: sent.txHash });
          gw.log.info("job challenged", { job: entry.jobOfferId, deal: sent.dealId, tx: sent.txHash });
          sendJson(req.res, 202, { id: entry.jobOfferId, deal: sent.dealId, tx: sent.txHash, reason: body.reason ?? null });
        } finally {
          challenging.delete(dealId!);
        }
      },
    },
  ];
}

const FINAL_STATES: ReadonlySet<DealStateName> = new Set(["settled", "slashed", "timedOut"]);
