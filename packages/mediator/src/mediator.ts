// The mediator as a unit: given its chain client, solver client, store, executor and clock, it
// scans the chain for disputes (a challenged optimistic result, an audit that hit, a replica group
// with no majority) and moves each one on by the pure `nextStep`: skip it as not ours, wait for
// the turn, lock the draw, re-run the job in the provider's sandbox, judge, rule. Every step is
// recorded in SQLite first, so a restarted mediator resumes where it stopped and never rules twice.
// The blocks its final records rely on are checked to stay the chain's (lostBlocks.ts).
import type { Abi, Address, Hex } from "viem";
import type { Client, SolverRoutes } from "@lily/api";
import { blockOf, dealId, lilyDealsAbi, lockDraw, rule, ruleReplicas, untilChainAnswers, type LilyClient } from "@lily/chain";
import { LilyError, isLilyError, type DealMessage, type JobOffer } from "@lily/protocol";
import type { Logger } from "@lily/node-kit";
import type { StoreClient } from "@lily/store";
import type { Executor, LoadJobOptions } from "@lily/executor";
import { comparatorFor } from "@lily/verification";
import type { MediatorSettings } from "./options.ts";
import { MediatorDb } from "./db.ts";
import type { Dispute } from "./dispute.ts";
import { disputeEventsIn } from "./disputeEvents.ts";
import { scanDisputes } from "./scan.ts";
import { resolveDeals } from "./resolveDeals.ts";
import { fetchJobOffer } from "./jobOffer.ts";
import { resolveMediatorList } from "./mediatorList.ts";
import { rerunJob } from "./rerun.ts";
import { fetchCommittedResult } from "./committedResult.ts";
import { ruleOn } from "./judge.ts";
import { nextStep, type ChainView, type StepContext } from "./nextStep.ts";
import { observe, readMediationTimes } from "./chainView.ts";
import { revertedWith } from "./reverted.ts";
import { watchMediatorBlocks } from "./lostBlocks.ts";

export interface RunningMediator {
  address: Address;
  /** Every dispute this mediator has seen, oldest first, with where it got to. */
  disputes(): Dispute[];
  close(): Promise<void>;
}

/** What the mediator works with; `startMediator` makes the real ones, tests may wrap them. */
export interface MediatorDeps {
  logger: Logger;
  /** Reads the chain and sends from the mediator's account. */
  chain: LilyClient;
  solver: Client<SolverRoutes>;
  store: StoreClient;
  executor: Executor & LoadJobOptions;
  /** Wall clock, milliseconds: when to try an undecided dispute again, and the database's timestamps. */
  clock: { now(): number };
}

/** A dispute needs at most about ten steps per pass; more means the view and the steps disagree. */
const MAX_STEPS = 16;

/** Refusals that mean the chain moved on between our look and our transaction: look again next pass. */
const MOVED_ON = ["DealsNotDrawnMediator", "DealsNotChallenged", "DealsMediationTimedOut"];

type Known = Dispute & { deals: DealMessage[] };

export async function createMediator(opts: MediatorSettings, deps: MediatorDeps): Promise<RunningMediator> {
  const { chain, solver, store, executor, clock } = deps;
  const log = deps.logger;
  if (!chain.account) throw new LilyError({ code: "CONFIG", field: "account", message: "the mediator's chain client needs an account to rule with" });
  const me = chain.account.address;
  // A chain node away at start-up (restarting) is waited for, not a failed start.
  const times = await untilChainAnswers(() => readMediationTimes(chain), {
    onWait: (err) => log.warn("chain node not answering at start-up; waiting for it", { err }),
  });
  const ctx: StepContext = { me, ...times };
  const db = new MediatorDb(opts.dbPath, () => clock.now());
  const { events, missing } = disputeEventsIn(lilyDealsAbi as Abi);
  if (missing.length) log.warn("the LilyDeals ABI lacks dispute events; those disputes will not be seen", { missing });
  const lostBlocks = watchMediatorBlocks({ db, chain, logger: log, clock: () => clock.now(), mediationTimeoutSeconds: times.mediationTimeoutSeconds });
  /** Undecided disputes are not looked at again before this wall-clock time (lost on restart: a retry comes sooner). */
  const notBefore = new Map<Hex, number>();

  /** Record the disputes announced up to block `latest`. */
  async function scan(latest: number): Promise<void> {
    let from = (db.lastScannedBlock() ?? chain.addresses.deployBlock - 1) + 1;
    while (from <= latest) {
      const to = Math.min(latest, from + opts.maxBlockRange - 1);
      const added = db.recordScan(to, await scanDisputes(chain, events, from, to));
      if (added) log.info("disputes found", { fromBlock: from, toBlock: to, added });
      from = to + 1;
    }
  }

  /** Move one dispute on as far as it goes now. */
  async function handle(start: Dispute): Promise<void> {
    let d = start;
    const key = d.key;
    let view: ChainView | undefined;
    let calldataLists: Address[][] = [];
    let job: JobOffer | undefined;
    const jobOffer = async () => (job ??= await fetchJobOffer(solver, chain.domain, d.deals![0]!));

    for (let n = 0; n < MAX_STEPS; n++) {
      const step = nextStep(d, view, ctx);
      switch (step.kind) {
        case "resolve-terms": {
          const terms = await resolveDeals(chain, solver, d);
          calldataLists = terms.addressLists;
          d = db.update(key, { status: d.status, deals: terms.deals });
          break;
        }
        case "observe":
          view = await observe(chain, d as Known, me);
          break;
        case "not-mine":
          relyOnView(view);
          db.update(key, { status: "not-mine", error: step.reason });
          log.info("dispute is not ours", { dispute: key, reason: step.reason });
          return;
        case "ruled":
          relyOnView(view);
          db.update(key, { status: "ruled", rulingTx: step.txHash });
          log.info("ruling already on chain", { dispute: key, txHash: step.txHash });
          return;
        case "resolve-mediators": {
          const { list, source } = await resolveMediatorList({ solver, domain: chain.domain }, d.deals!, await jobOffer(), calldataLists);
          d = db.update(key, { status: d.status, mediators: list });
          log.debug("mediator list", { dispute: key, source, mediators: list.length });
          view = undefined; // whose turn it is is asked once the list is known
          break;
        }
        case "wait":
          db.update(key, { status: "seen", error: step.reason, recheckBlock: step.recheckBlock, recheckAt: step.recheckAt });
          log.info("not our turn; looking again when it can change", {
            dispute: key,
            reason: step.reason,
            recheckBlock: step.recheckBlock,
            recheckAt: step.recheckAt,
          });
          return;
        case "lock-draw":
          await lockTheDraw(key, step.deal);
          view = undefined;
          break;
        case "re-run": {
          const decided = await decide(d as Known, view!, await jobOffer());
          if (!decided) return;
          d = decided;
          view = undefined; // the re-run took time: check the turn again before sending
          break;
        }
        case "rule":
          await sendRuling(d as Known);
          return;
      }
    }
    throw new LilyError({ code: "INTERNAL", field: "dispute", message: `dispute ${key}: no decision after ${MAX_STEPS} steps` });
  }

  /** A final record made from `view` relies on its block: if the node loses it, the dispute is looked at again. */
  function relyOnView(view: ChainView | undefined): void {
    if (view?.blockHash) db.blocks.relyOn({ number: BigInt(view.block), hash: view.blockHash });
  }

  /** Fix the draw while it names us; someone else having fixed it already is as good. */
  async function lockTheDraw(key: Hex, deal: DealMessage): Promise<void> {
    try {
      const sent = await lockDraw(chain, { deal });
      log.info("draw locked: the turn is ours for its time", { dispute: key, txHash: sent.txHash });
    } catch (e) {
      if (!revertedWith(e, "DealsDrawAlreadyLocked")) throw e;
      log.debug("draw already locked", { dispute: key });
    }
  }

  /** Re-run, fetch what each provider committed, judge; the dispute with its ruling, or undefined when there is no evidence either way. */
  async function decide(d: Known, view: ChainView, job: JobOffer): Promise<Dispute | undefined> {
    db.update(d.key, { status: "re-running", error: undefined, recheckBlock: undefined, recheckAt: undefined });
    log.info("our turn: re-running the job", { dispute: d.key, kind: d.kind, deals: d.deals.length });
    const { module, inputs } = job;
    const { manifest, reference } = await rerunJob(
      { store, executor, logger: log, workDir: opts.workDir, timeoutFactor: opts.rerunTimeoutFactor },
      { key: d.key, module, inputs },
    );
    const candidates = await Promise.all(
      view.deals.map((s, i) => fetchCommittedResult(store, s.digest, { dealId: dealId(chain.addresses, d.deals[i]!), module, inputs })),
    );
    const judged = ruleOn(reference, candidates, comparatorFor(manifest.comparator));
    if (!judged.decided) {
      notBefore.set(d.key, clock.now() + opts.undecidedRetryMs);
      db.update(d.key, { status: "re-running", error: judged.reason });
      log.warn("no ruling: no evidence either way; trying again later (unruled, the mediation times out and unwinds)", {
        dispute: d.key,
        reason: judged.reason,
        retryInMs: opts.undecidedRetryMs,
      });
      return undefined;
    }
    notBefore.delete(d.key);
    log.info("ruling decided", { dispute: d.key, correct: judged.ruling.correct, comparator: judged.ruling.comparator, details: judged.ruling.details });
    return db.update(d.key, { status: "ruling", ruling: { ...judged.ruling, digests: view.deals.map((s) => s.digest ?? null) } });
  }

  async function sendRuling(d: Known): Promise<void> {
    const ruling = d.ruling!;
    const mediators = d.mediators!;
    const sent =
      d.kind === "replicas"
        ? await ruleReplicas(chain, { deals: d.deals, mediators, correct: ruling.correct, comparator: ruling.comparator })
        : await rule(chain, { deal: d.deals[0]!, mediators, providerCorrect: ruling.correct[0]!, comparator: ruling.comparator });
    // Recorded as ruled, the dispute is no longer followed: if the node loses this block, lostBlocks.ts follows it again.
    db.blocks.relyOn(blockOf(sent));
    db.update(d.key, { status: "ruled", rulingTx: sent.txHash });
    log.info("ruled", { dispute: d.key, correct: ruling.correct, txHash: sent.txHash, gasUsed: sent.gasUsed });
  }

  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();

  async function pass(): Promise<void> {
    const latest = await chain.publicClient.getBlock({ blockTag: "latest" });
    // The scan cursor relies on this block: if the node loses it, the heights past the loss are scanned again.
    db.blocks.relyOn({ number: latest.number, hash: latest.hash });
    await scan(Number(latest.number));
    for (const d of db.pending(Number(latest.number), Number(latest.timestamp))) {
      if (closed) return;
      if ((notBefore.get(d.key) ?? 0) > clock.now()) continue;
      try {
        await handle(d);
      } catch (e) {
        if (isLilyError(e, "UNREACHABLE")) {
          log.warn("dispute step failed; will retry", { dispute: d.key, err: e });
        } else if (MOVED_ON.some((name) => revertedWith(e, name))) {
          // The turn passed on, or the dispute ended, between our look and our transaction.
          db.update(d.key, { status: "seen", error: (e as LilyError).message });
          log.warn("the chain moved on before our transaction; looking again", { dispute: d.key, err: e });
        } else {
          const reason = e instanceof LilyError ? e.message : String(e);
          const after = db.recordFailure(d.key, reason, opts.maxAttempts);
          if (after.status === "failed") log.error("dispute failed", { dispute: d.key, attempts: after.attempts, err: e });
          else log.warn("dispute step failed; will retry", { dispute: d.key, attempts: after.attempts, err: e });
        }
      }
    }
  }

  const tick = () => {
    if (closed) return;
    lostBlocks.check();
    current = pass()
      .catch((e) => log.warn("mediator pass failed", { err: e }))
      .finally(() => {
        if (!closed) timer = setTimeout(tick, opts.pollMs);
      });
  };
  log.info("mediator started", { address: me, deals: chain.addresses.deals, fromBlock: db.lastScannedBlock() ?? chain.addresses.deployBlock, ...ctx });
  tick();

  return {
    address: me,
    disputes: () => db.all(),
    async close() {
      closed = true;
      clearTimeout(timer);
      await Promise.all([current, lostBlocks.running]);
      db.close();
    },
  };
}
