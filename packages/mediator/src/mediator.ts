// The mediator as a process. It scans the chain for disputes (a challenged optimistic result, an
// audit that hit, a replica group with no majority), and for each one it was drawn for and both
// parties accepted it for, re-runs the job in the same sandbox the provider used, judges the
// provider's committed result with the module's comparator, and sends its ruling. Every step is
// recorded in SQLite first, so a restarted mediator resumes where it stopped and never rules twice.
import { isAddressEqual, type Abi, type Address, type Hex } from "viem";
import { createClient, solverRoutes } from "@lily/api";
import {
  createLilyClient,
  dealId,
  dealRecord,
  getDealEvents,
  lilyDealsAbi,
  mediatorOf,
  rule,
  ruleReplicas,
  type LilyClient,
} from "@lily/chain";
import { LilyError, isLilyError, type DealMessage, type Domain, type Hex32, type JobOffer } from "@lily/protocol";
import type { Logger } from "@lily/node-kit";
import { StoreClient } from "@lily/store";
import { createWasmExecutor } from "@lily/executor";
import { comparatorFor } from "@lily/verification";
import type { MediatorOptions } from "./options.ts";
import { MediatorDb } from "./db.ts";
import type { Dispute } from "./dispute.ts";
import { disputeEventsIn, RULED_EVENT } from "./disputeEvents.ts";
import { scanDisputes } from "./scan.ts";
import { resolveDeals } from "./resolveDeals.ts";
import { fetchJobOffer } from "./jobOffer.ts";
import { resolveMediatorList } from "./mediatorList.ts";
import { rerunJob } from "./rerun.ts";
import { fetchCommittedResult } from "./committedResult.ts";
import { ruleOn } from "./judge.ts";
import { nextDrawChange } from "./drawSchedule.ts";

export interface RunningMediator {
  address: Address;
  /** Every dispute this mediator has seen, oldest first, with where it got to. */
  disputes(): Dispute[];
  close(): Promise<void>;
}

const ZERO_DIGEST = `0x${"0".repeat(64)}`;

export async function startMediator(opts: MediatorOptions, deps: { logger: Logger }): Promise<RunningMediator> {
  const log = deps.logger;
  const me = opts.account.address;
  const db = new MediatorDb(opts.dbPath);
  const chain: LilyClient = createLilyClient({
    rpcUrl: opts.rpcUrl,
    account: opts.account,
    addresses: { chainId: opts.chainId, token: opts.token, deals: opts.deals, deployBlock: opts.deployBlock },
  });
  const domain: Domain = chain.domain;
  const solver = createClient(opts.solverUrl, solverRoutes, { peer: `solver at ${opts.solverUrl}` });
  const store = new StoreClient(opts.storeUrl);
  const executor = createWasmExecutor();
  const { events, missing } = disputeEventsIn(lilyDealsAbi as Abi);
  if (missing.length) log.warn("the LilyDeals ABI lacks dispute events; those disputes will not be seen", { missing });

  /** Record the disputes announced since the last scan; returns the block scanned up to. */
  async function scan(): Promise<number> {
    const latest = Number(await chain.publicClient.getBlockNumber());
    let from = (db.lastScannedBlock() ?? opts.deployBlock - 1) + 1;
    while (from <= latest) {
      const to = Math.min(latest, from + opts.maxBlockRange - 1);
      const found = await scanDisputes(chain, events, from, to);
      const added = db.recordScan(to, found);
      if (added) log.info("disputes found", { fromBlock: from, toBlock: to, added });
      from = to + 1;
    }
    return latest;
  }

  /** Each deal's state on chain, its committed result digest (if any) and its draw block. */
  async function onChain(deals: DealMessage[]): Promise<{ deal: DealMessage; state: string; digest?: Hex32; drawBlock: bigint }[]> {
    return Promise.all(
      deals.map(async (deal) => {
        const r = await dealRecord(chain, { dealId: dealId(chain.addresses, deal) });
        return { deal, state: r.state, digest: r.resultDigest === ZERO_DIGEST ? undefined : (r.resultDigest as Hex32), drawBlock: r.drawBlock };
      }),
    );
  }

  /** A ruling already on chain for this dispute (ours, sent before a crash), if any. */
  async function rulingOnChain(deals: DealMessage[]): Promise<{ txHash: Hex; mediator: Address } | undefined> {
    for (const deal of deals) {
      const events = await getDealEvents(chain, { dealId: dealId(chain.addresses, deal) });
      const ruled = events.find((e) => e.name === RULED_EVENT);
      if (ruled) return { txHash: ruled.txHash, mediator: (ruled.args as { mediator: Address }).mediator };
    }
    return undefined;
  }

  async function handle(start: Dispute, currentBlock: number): Promise<void> {
    let d = start;
    const key = d.key;

    // 1. The terms, from the calldata of the transaction that raised the dispute.
    let calldataLists: Address[][] = [];
    if (!d.deals) {
      const terms = await resolveDeals(chain, solver, d);
      calldataLists = terms.addressLists;
      d = db.update(key, { status: d.status, deals: terms.deals });
    }
    const deals = d.deals!;
    let job: JobOffer | undefined;
    const jobOffer = async () => (job ??= await fetchJobOffer(solver, domain, deals[0]!));

    // 2. Whether this mediator may rule: the dispute is still open, this mediator is in the list
    //    both parties accepted, and it is the one drawn.
    if (d.status === "seen") {
      const states = await onChain(deals);
      const open = states.find((s) => s.state === "challenged");
      if (!open) {
        db.update(key, { status: "not-mine", error: `resolved without us (${states.map((s) => s.state).join(", ")})` });
        log.info("dispute no longer awaits a ruling", { dispute: key, states: states.map((s) => s.state) });
        return;
      }
      if (!d.mediators) {
        const { list, source } = await resolveMediatorList({ solver, domain }, deals[0]!, await jobOffer(), calldataLists);
        d = db.update(key, { status: d.status, mediators: list });
        log.debug("mediator list", { dispute: key, source, mediators: list.length });
      }
      // REJECT: never rule on a deal whose parties did not both accept this mediator
      if (!d.mediators!.some((m) => isAddressEqual(m, me))) {
        db.update(key, { status: "not-mine", error: "not in the mediator list both parties accepted" });
        log.info("dispute is not ours: we are not an accepted mediator", { dispute: key });
        return;
      }
      const recheckBlock = nextDrawChange(Number(open.drawBlock), currentBlock);
      let drawn: Address;
      try {
        drawn = await mediatorOf(chain, { deal: open.deal, mediators: d.mediators! });
      } catch (e) {
        if (!isLilyError(e, "CHAIN_REVERT") || e.details.error !== "DealsMediatorNotDrawnYet") throw e;
        db.update(key, { status: "seen", recheckBlock, error: "the draw's block is not mined yet" });
        log.debug("mediator not drawn yet", { dispute: key, recheckBlock });
        return;
      }
      // REJECT: of the accepted mediators, only the drawn one rules
      if (!isAddressEqual(drawn, me)) {
        db.update(key, { status: "seen", recheckBlock, error: `mediator ${drawn} is drawn` });
        log.info("dispute is not ours: another mediator is drawn", { dispute: key, drawn, recheckBlock });
        return;
      }
      d = db.update(key, { status: "re-running", error: undefined, recheckBlock: undefined });
      log.info("dispute is ours: re-running the job", { dispute: key, kind: d.kind, deals: deals.length });
    }
    const mediators = d.mediators!;

    // 3. The ruling: re-run, fetch what each provider committed, judge.
    if (!d.ruling) {
      const { module, inputs } = await jobOffer();
      const { manifest, outcome } = await rerunJob(
        { store, executor, logger: log, workDir: opts.workDir, timeoutFactor: opts.rerunTimeoutFactor },
        { key, module, inputs },
      );
      const states = await onChain(deals);
      const candidates = await Promise.all(
        states.map((s) => fetchCommittedResult(store, s.digest, { dealId: dealId(chain.addresses, s.deal), module, inputs })),
      );
      const ruling = ruleOn(outcome, candidates, comparatorFor(manifest.comparator));
      d = db.update(key, { status: "ruling", ruling });
      log.info("ruling decided", { dispute: key, correct: ruling.correct, comparator: ruling.comparator, details: ruling.details });
    }

    // 4. Send it, unless it is already on chain (sent before a crash).
    const already = await rulingOnChain(deals);
    if (already) {
      db.update(key, { status: "ruled", rulingTx: already.txHash });
      log.info("ruling already on chain", { dispute: key, txHash: already.txHash, mediator: already.mediator });
      return;
    }
    const ruling = d.ruling!;
    const sent =
      d.kind === "replicas"
        ? await ruleReplicas(chain, { deals, mediators, correct: ruling.correct, comparator: ruling.comparator })
        : await rule(chain, { deal: deals[0]!, mediators, providerCorrect: ruling.correct[0]!, comparator: ruling.comparator });
    db.update(key, { status: "ruled", rulingTx: sent.txHash });
    log.info("ruled", { dispute: key, correct: ruling.correct, txHash: sent.txHash, gasUsed: sent.gasUsed });
  }

  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();

  async function pass(): Promise<void> {
    const currentBlock = await scan();
    for (const d of db.pending(currentBlock)) {
      if (closed) return;
      try {
        await handle(d, currentBlock);
      } catch (e) {
        if (isLilyError(e, "UNREACHABLE")) {
          log.warn("dispute step failed; will retry", { dispute: d.key, err: e });
        } else if (isLilyError(e, "CHAIN_REVERT") && e.details.error === "DealsNotDrawnMediator") {
          // The draw moved on (256 blocks passed) between our check and our ruling: check again.
          db.update(d.key, { status: "seen", error: e.message });
          log.warn("no longer the drawn mediator", { dispute: d.key });
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
    current = pass()
      .catch((e) => log.warn("mediator pass failed", { err: e }))
      .finally(() => {
        if (!closed) timer = setTimeout(tick, opts.pollMs);
      });
  };
  log.info("mediator started", { address: me, deals: opts.deals, fromBlock: db.lastScannedBlock() ?? opts.deployBlock });
  tick();

  return {
    address: me,
    disputes: () => db.all(),
    async close() {
      closed = true;
      clearTimeout(timer);
      await current;
      db.close();
    },
  };
}
