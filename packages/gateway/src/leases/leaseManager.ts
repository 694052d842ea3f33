// The leases the gateway holds, per model: which one takes the next request (one with budget and
// time left, from a provider not cooling down), opening a new one when none can (the cheapest
// offer first: the provider countersigns, the gateway opens it on chain, one transaction), and
// paying each answer by a cumulative voucher once its receipt checks out. State is in SQLite, so a
// restarted gateway keeps its leases and never signs a voucher for less than one it already gave.
import { randomBytes } from "node:crypto";
import type { Address, Hex, LocalAccount } from "viem";
import { createClient, modelOfferRoutes, type ModelOfferRecord } from "@lily/api";
import {
  Lease,
  LilyError,
  answerCost,
  hashRecord,
  parse,
  requestDigest,
  responseDigest,
  signRecord,
  toWire,
  verifyRecord,
  type Domain,
  type InferenceRequest,
  type InferenceResponse,
  type SignedReceipt,
  wireJson,
} from "@lily/protocol";
import type { Database } from "@lily/node-kit";
import type { Logger } from "@lily/node-kit";
import { leaseClient } from "./providerClient.ts";
import { canTake, type HeldLease } from "./heldLease.ts";
import { leaseTerms } from "./leaseTerms.ts";

/** The chain calls the manager needs; the real ones are @lily/chain's lease actions. */
export interface LeaseChain {
  openLease(lease: Lease, payerSignature: Hex, providerSignature: Hex): Promise<Hex>;
  /** Where the lease stands on chain: none, open, closed or expired. */
  leaseState(leaseId: Hex): Promise<string>;
  /** Take back the whole budget of a lease its provider did not close in time. */
  reclaim(lease: Lease): Promise<Hex>;
  claimWindowSeconds(): Promise<number>;
}

export interface LeaseManagerDeps {
  db: Database;
  account: LocalAccount;
  /** The leases contract's EIP-712 domain. */
  domain: Domain;
  solverUrl: string;
  chain: LeaseChain;
  log: Logger;
  now?: () => number;
}

export interface LeaseManagerOptions {
  leaseBudget: bigint;
  leaseSeconds: number;
  mediator?: Address;
  mediationFee: bigint;
  auditBps: number;
  providerCooldownSeconds: number;
  /** Answers in flight on a lease before the gateway leases another provider of the model too. */
  busyAnswers: number;
}

export interface ModelRef {
  cid: string;
  royalty: { moduleCreator: Address; royaltyBps: number };
}

/** What a receipt must sign for an answer the gateway received. */
export interface Expected {
  request: Hex;
  response: Hex;
  inputTokens: number;
  outputTokens: number;
}

/** What a text answer's receipt must sign. */
export function expectedFor(request: InferenceRequest, response: InferenceResponse): Expected {
  return { request: requestDigest(request), response: responseDigest(response), inputTokens: response.inputTokens, outputTokens: response.outputTokens };
}

/** The most a request can cost at given prices (its prompt and max_tokens at those prices). */
export type WorstCase = (prices: Pick<Lease, "inputPricePer1k" | "outputPricePer1k">) => bigint;

/** A lease taken for one request: release it when the request has ended, paid or not. */
export interface Taken {
  lease: HeldLease;
  release(): void;
}

export type LeaseManager = ReturnType<typeof createLeaseManager>;

export function createLeaseManager(opts: LeaseManagerOptions, deps: LeaseManagerDeps) {
  const { db, account, domain, log } = deps;
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  const solver = createClient(deps.solverUrl, modelOfferRoutes, { peer: `solver at ${deps.solverUrl}` });
  const held = new Map<Hex, HeldLease>();
  const cooling = new Map<string, number>();
  const opening = new Map<string, Promise<HeldLease>>();
  const noMoreUntil = new Map<string, number>();

  for (const row of db.prepare("SELECT * FROM leases WHERE state = 'open'").all() as unknown as LeaseRow[]) {
    const terms = parse(Lease, JSON.parse(row.terms), "stored lease");
    held.set(row.id as Hex, {
      id: row.id as Hex,
      terms,
      provider: terms.provider,
      endpoint: row.endpoint,
      model: row.model,
      paid: BigInt(row.paid),
      requests: BigInt(row.requests),
      reserved: 0n,
      inFlight: 0,
      tail: Promise.resolve(),
    });
  }

  /** One opening per model and exclusion at a time: requests arriving meanwhile share it. */
  function openOnce(model: ModelRef, worstCase: WorstCase, exclude: Set<string>): Promise<HeldLease> {
    const key = `${model.cid}|${[...exclude].sort().join(",")}`;
    let pending = opening.get(key);
    if (!pending) {
      pending = open(model, worstCase, exclude).finally(() => opening.delete(key));
      opening.set(key, pending);
    }
    return pending;
  }

  /** Lease one more provider of `model` (none in `exclude`), unless none is left to lease just now. */
  function spread(model: ModelRef, worstCase: WorstCase, exclude: Set<string>): void {
    if ((noMoreUntil.get(model.cid) ?? 0) > now()) return;
    openOnce(model, worstCase, exclude).catch((e: unknown) => {
      // Every provider of the model is leased already (or failing): ask again in a while.
      noMoreUntil.set(model.cid, now() + opts.providerCooldownSeconds);
      log.debug("no further provider to spread over", { model: model.cid, error: e instanceof Error ? e.message : String(e) });
    });
  }

  function coolingDown(provider: string): boolean {
    const until = cooling.get(provider.toLowerCase());
    return until !== undefined && until > now();
  }

  function reserve(lease: HeldLease, worstCase: bigint): Taken {
    lease.reserved += worstCase;
    lease.inFlight++;
    let released = false;
    return {
      lease,
      release: () => {
        if (released) return;
        released = true;
        lease.reserved -= worstCase;
        lease.inFlight--;
      },
    };
  }

  async function open(model: ModelRef, worstCase: WorstCase, exclude: Set<string>): Promise<HeldLease> {
    const { offers } = await solver.listModelOffers({ query: { model: model.cid } });
    const usable = offers.filter((o) => !exclude.has(o.offer.provider.toLowerCase()) && !coolingDown(o.offer.provider));
    if (usable.length === 0) {
      throw new LilyError({
        code: "NO_MATCH",
        field: "model",
        message: offers.length === 0 ? `no provider serves model ${model.cid} now` : `every provider of model ${model.cid} failed just now; try again shortly`,
      });
    }
    let last: unknown;
    for (const offer of usable) {
      try {
        return await openWith(offer, model, worstCase);
      } catch (e) {
        last = e;
        markDown(offer.offer.provider, e);
      }
    }
    throw last instanceof LilyError
      ? last
      : new LilyError({ code: "UNREACHABLE", message: `no provider of model ${model.cid} would open a lease`, cause: last });
  }

  async function openWith(record: ModelOfferRecord, model: ModelRef, worstCase: WorstCase): Promise<HeldLease> {
    // A lease outlives one request: it holds the configured budget, and never less than a few worst cases.
    const floor = worstCase(record.offer) * 4n;
    const budget = opts.leaseBudget > floor ? opts.leaseBudget : floor;
    const terms = leaseTerms({
      payer: account.address,
      offer: record.offer,
      budget,
      now: now(),
      leaseSeconds: opts.leaseSeconds,
      mediator: opts.mediator,
      mediationFee: opts.mediationFee,
      auditBps: opts.auditBps,
      royalty: model.royalty,
      nonce: BigInt(`0x${randomBytes(16).toString("hex")}`),
    });
    const payerSignature = await signRecord(account, domain, "Lease", terms);
    const { providerSignature } = await leaseClient(record.offer.endpoint).proposeLease({ body: toWire({ lease: terms, payerSignature }) as never });
    // REJECT: the countersignature must be the provider's over these very terms
    await verifyRecord(domain, "Lease", terms, providerSignature, { signer: terms.provider, field: "providerSignature" });
    const id = hashRecord(domain, "Lease", terms);
    const tx = await deps.chain.openLease(terms, payerSignature, providerSignature);
    db.prepare(
      "INSERT INTO leases (id, model, provider, endpoint, terms, expires_at, state, opened_tx, created_at) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?)",
    ).run(id, model.cid, terms.provider, record.offer.endpoint, wireJson(terms), Number(terms.expiresAt), tx, now());
    const lease: HeldLease = {
      id,
      terms,
      provider: terms.provider,
      endpoint: record.offer.endpoint,
      model: model.cid,
      paid: 0n,
      requests: 0n,
      reserved: 0n,
      inFlight: 0,
      tail: Promise.resolve(),
    };
    held.set(id, lease);
    log.info("lease opened", { lease: id, provider: terms.provider, model: model.cid, budget: terms.budget, tx });
    return lease;
  }

  function markDown(provider: string, why: unknown, seconds = opts.providerCooldownSeconds): void {
    cooling.set(provider.toLowerCase(), now() + seconds);
    log.warn("provider passed over", { provider, error: why instanceof Error ? why.message : String(why) });
  }

  return {
    /**
     * A lease on `model` that can take a request costing at most `worstCase`, reserved for it:
     * an open one when any can, else a newly opened one. Providers in `exclude` are not used.
     */
    async take(model: ModelRef, worstCase: WorstCase, exclude: Set<string> = new Set()): Promise<Taken> {
      const t = now();
      const usable = [...held.values()].filter(
        (l) => l.model === model.cid && !exclude.has(l.provider.toLowerCase()) && !coolingDown(l.provider) && canTake(l, worstCase(l.terms), t),
      );
      // The least busy lease takes the request; when even it is busy, another provider is leased
      // in the background, so load spreads over the providers of a model.
      usable.sort((a, b) => a.inFlight - b.inFlight);
      const best = usable[0];
      if (best) {
        if (best.inFlight >= opts.busyAnswers) spread(model, worstCase, new Set([...exclude, ...usable.map((l) => l.provider.toLowerCase())]));
        return reserve(best, worstCase(best.terms));
      }
      const lease = await openOnce(model, worstCase, exclude);
      return reserve(lease, worstCase(lease.terms));
    },

    markDown,

    /**
     * An audit proved one of the provider's answers wrong: it gets no new requests for a day, and
     * its open leases with the gateway stop taking them now (they settle as usual).
     */
    distrust(provider: string): void {
      markDown(provider, "an audit proved one of its answers wrong", 86_400);
    },

    /**
     * Check an answer's receipt and pay for it: the receipt must be the provider's, for this lease,
     * over exactly the request and answer `expected` names; then the voucher grows by its cost.
     * Returns the cost. The voucher is stored before it is sent, so a crash never pays less later.
     */
    async pay(lease: HeldLease, expected: Expected, signed: SignedReceipt): Promise<bigint> {
      const r = signed.receipt;
      // REJECT: a receipt must be signed by the lease's provider
      await verifyRecord(domain, "Receipt", r, signed.signature, { signer: lease.provider, field: "receipt.signature" });
      // REJECT: it must name this lease and provider, this request and this very answer
      if (r.lease !== lease.id || r.provider.toLowerCase() !== lease.provider.toLowerCase()) throw badReceipt("it names another lease or provider");
      if (r.request !== expected.request) throw badReceipt("its request digest is not the request sent");
      if (r.response !== expected.response) throw badReceipt("its response digest is not the answer received");
      if (r.inputTokens !== expected.inputTokens || r.outputTokens !== expected.outputTokens) throw badReceipt("its token counts differ from the answer's");
      const cost = answerCost(lease.terms, r.inputTokens, r.outputTokens);
      const run = lease.tail.then(async () => {
        const amount = lease.paid + cost;
        // REJECT: never sign for more than the lease's budget (the provider could not claim it anyway)
        if (amount > lease.terms.budget) throw badReceipt(`paying it would pass the lease's budget of ${lease.terms.budget}`);
        const voucher = { lease: lease.id, amount, requests: lease.requests + 1n };
        const signature = await signRecord(account, domain, "Voucher", voucher);
        db.prepare("UPDATE leases SET paid = ?, requests = ?, voucher_signature = ?, voucher_delivered = 0 WHERE id = ?").run(
          amount.toString(),
          Number(voucher.requests),
          signature,
          lease.id,
        );
        lease.paid = amount;
        lease.requests = voucher.requests;
        // Delivered before the answer is done: the provider extends credit for only a couple of
        // unpaid answers, so under load a voucher left in flight would get the next requests refused.
        await deliver(lease, voucher, signature);
      });
      lease.tail = run.catch(() => undefined);
      await run;
      return cost;
    },

    /** Send vouchers a crash or an unreachable provider left undelivered. */
    async redeliver(): Promise<void> {
      const rows = db
        .prepare("SELECT id, paid, requests, voucher_signature FROM leases WHERE voucher_delivered = 0 AND voucher_signature IS NOT NULL")
        .all() as unknown as LeaseRow[];
      for (const row of rows) {
        const lease = held.get(row.id as Hex);
        if (!lease) continue;
        await deliver(lease, { lease: lease.id, amount: BigInt(row.paid), requests: BigInt(row.requests) }, row.voucher_signature as Hex);
      }
    },

    /** Leases past their expiry stop taking requests; the provider settles them on chain. */
    retireExpired(): void {
      const t = now();
      for (const lease of held.values()) {
        if (Number(lease.terms.expiresAt) <= t) {
          held.delete(lease.id);
          db.prepare("UPDATE leases SET state = 'retired' WHERE id = ?").run(lease.id);
        }
      }
    },

    /**
     * Settle what the gateway's retired leases left open: a lease its provider closed is done; one
     * still open past expiry and the claim window (its provider went silent) has its whole budget
     * reclaimed, so an honest payer never leaves money locked.
     */
    async reclaimAbandoned(): Promise<void> {
      const claimWindow = await deps.chain.claimWindowSeconds();
      const rows = db.prepare("SELECT id, terms, expires_at FROM leases WHERE state = 'retired'").all() as unknown as (LeaseRow & { expires_at: number })[];
      for (const row of rows) {
        const state = await deps.chain.leaseState(row.id as Hex);
        if (state === "closed" || state === "expired") {
          db.prepare("UPDATE leases SET state = 'settled' WHERE id = ?").run(row.id);
          continue;
        }
        if (state !== "open" || now() <= row.expires_at + claimWindow) continue;
        const tx = await deps.chain.reclaim(parse(Lease, JSON.parse(row.terms), "stored lease"));
        db.prepare("UPDATE leases SET state = 'settled' WHERE id = ?").run(row.id);
        log.warn("lease reclaimed: its provider never closed it", { lease: row.id, tx });
      }
    },

    held(): HeldLease[] {
      return [...held.values()];
    },
  };

  async function deliver(lease: HeldLease, voucher: { lease: Hex; amount: bigint; requests: bigint }, signature: Hex): Promise<void> {
    try {
      await leaseClient(lease.endpoint).postVoucher({ params: { id: lease.id }, body: toWire({ voucher, signature }) as never });
      db.prepare("UPDATE leases SET voucher_delivered = 1 WHERE id = ? AND paid = ?").run(lease.id, voucher.amount.toString());
    } catch (e) {
      // Kept undelivered: the next voucher supersedes it, or redeliver() sends it again.
      log.warn("voucher not delivered", { lease: lease.id, amount: voucher.amount, error: e instanceof Error ? e.message : String(e) });
    }
  }
}

interface LeaseRow {
  id: string;
  model: string;
  endpoint: string;
  terms: string;
  paid: string;
  requests: number;
  voucher_signature: string | null;
}

/** A provider's receipt the gateway will not pay: the provider's fault, so a 502 to the client, not a 401. */
function badReceipt(why: string): LilyError {
  return new LilyError({ code: "UNREACHABLE", field: "receipt", message: `the provider's receipt is refused: ${why}`, details: { badReceipt: true } });
}
