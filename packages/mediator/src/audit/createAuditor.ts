// The auditor: takes an audit of one answer, checks it (checkAudit), makes sure the chain holds
// the lease, re-runs the request on its own copy of the model, judges by the model's comparator
// (judgeAnswer), records the verdict per receipt, and slashes the provider's lease collateral with
// the receipt when the answer is wrong. Audits run one at a time: a re-run holds the model, and a
// receipt audited twice at once must still be re-run and slashed once. A slash the chain node
// lost (its block dropped: anvil restarted from its state file, a reorg) is sent again: unsent,
// the mediator would lose its fee and the payer the collateral owed to it.
import type { Address, Hex } from "viem";
import { blockOf, watchReliedBlocks, type LilyClient, type ReliedBlocksWatch, type WriteResult } from "@lily/chain";
import { LilyError, type Domain, type Lease, type Receipt } from "@lily/protocol";
import type { Logger } from "@lily/node-kit";
import type { AuditBody, AuditResult } from "@lily/api";
import { AuditDb } from "./auditDb.ts";
import { auditAllowance, checkAudit } from "./checkAudit.ts";
import { judgeAnswer } from "./judgeAnswer.ts";
import type { ModelSource } from "./modelSource.ts";
import { rerunAnswer } from "./rerunAnswer.ts";
import { rescanFrom } from "../lostBlocks.ts";
import { revertedWith } from "../reverted.ts";

/** What audits need of the chain: the LilyLeases reads and the mediator's slash. */
export interface LeaseChain {
  /** Whether the chain holds the lease `id` (it was opened, whatever happened since). */
  leaseKnown(id: Hex): Promise<boolean>;
  /** Slash the lease's provider with its signed receipt; only the lease's mediator may. */
  slashLease(lease: Lease, receipt: Receipt, providerSignature: Hex): Promise<Pick<WriteResult, "txHash" | "blockNumber" | "blockHash">>;
}

export interface AuditorOptions {
  /** The SQLite file of audits. */
  dbPath: string;
  /** {chainId, verifyingContract: the LilyLeases contract}. */
  domain: Domain;
}

export interface AuditorDeps {
  logger: Logger;
  /** The mediator's own address: the one leases must name. */
  me: Address;
  chain: LeaseChain;
  models: ModelSource;
  clock?: { now(): number };
  /** Reads blocks: whether the chain still has those slashes were sent in (checked once a second); none: not checked. */
  blocks?: LilyClient;
}

export interface Auditor {
  audit(body: AuditBody): Promise<AuditResult>;
  get(receipt: Hex): AuditResult | undefined;
  close(): Promise<void>;
}

export function createAuditor(opts: AuditorOptions, deps: AuditorDeps): Auditor {
  const { logger: log, chain, models } = deps;
  const now = () => (deps.clock ?? Date).now();
  const db = new AuditDb(opts.dbPath, now);
  let queue: Promise<unknown> = Promise.resolve();
  /** Run `task` after the audits and resends before it: one slash at a time. */
  function inTurn<T>(task: () => Promise<T>): Promise<T> {
    const next = queue.then(task);
    queue = next.catch(() => undefined); // each caller sees its own failure; the queue goes on
    return next;
  }

  async function audit(body: AuditBody): Promise<AuditResult> {
    const checked = await checkAudit(body, opts.domain, deps.me);
    const { lease, receipt } = body;
    const known = db.get(checked.receipt);
    if (known && (known.verdict === "correct" || known.txHash)) return known;
    if (!known) {
      // REJECT: the chain must hold the lease, or there is no collateral to answer for the receipt
      if (!(await chain.leaseKnown(checked.lease))) {
        throw new LilyError({ code: "NOT_FOUND", field: "lease", message: `lease: ${checked.lease} is not on chain` });
      }
      // REJECT: a payer may not make the mediator re-run far more answers than the lease's audit share
      const allowed = auditAllowance(lease.auditBps, receipt.receipt.seq);
      if (db.countForLease(checked.lease) >= allowed) {
        throw new LilyError({
          code: "RATE_LIMITED",
          field: "receipt",
          message: `receipt: lease ${checked.lease} has had ${allowed} audits, the most its audit share allows after ${receipt.receipt.seq} answers`,
          details: { allowed },
        });
      }
    }
    const verdict = known ?? (await judge(body, checked.lease, checked.receipt));
    if (verdict.verdict === "correct") return verdict;
    const sent = await chain.slashLease(lease, receipt.receipt, receipt.signature);
    log.info("provider slashed for a wrong answer", { lease: checked.lease, receipt: checked.receipt, provider: lease.provider, txHash: sent.txHash });
    return db.recordSlash(checked.receipt, sent.txHash, { block: blockOf(sent), body: { lease, receipt } });
  }

  /** The chain lost blocks: the slashes sent above the highest height known unchanged are sent again where the collateral is locked again. */
  async function resendLost(above: bigint): Promise<void> {
    for (const { receipt, body } of db.slashesAbove(above)) {
      await inTurn(async () => {
        try {
          const sent = await chain.slashLease(body.lease, body.receipt.receipt, body.receipt.signature);
          db.recordResend(receipt, sent.txHash, blockOf(sent));
          log.warn("the chain node lost our slash (blocks lost); slashed again", { receipt, lease: body.receipt.receipt.lease, txHash: sent.txHash });
        } catch (e) {
          // Still slashed: that block was not lost. Released or past the audit window: too late, nothing to do.
          if (revertedWith(e, "LeasesCollateralNotLocked") || revertedWith(e, "LeasesAuditWindowClosed")) return;
          throw e;
        }
      });
    }
  }

  let watch: ReliedBlocksWatch | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (deps.blocks) {
    watch = watchReliedBlocks({
      chain: deps.blocks,
      store: db.blocks,
      clock: now,
      onLost: (found) => resendLost(BigInt(rescanFrom(found, -1))),
      onError: (err) => log.warn("could not check that the chain still has the blocks our slashes are in; checking again later", { err }),
    });
    timer = setInterval(() => watch!.check(), 1000);
    timer.unref();
  }

  async function judge(body: AuditBody, lease: Hex, receiptId: Hex): Promise<AuditResult> {
    const { request, response, receipt } = body;
    const { manifest, runner } = await models.runner(body.lease.model);
    log.info("audit: re-running the answer", { lease, receipt: receiptId, model: `${manifest.name}@${manifest.version}`, seq: receipt.receipt.seq });
    const reference = await rerunAnswer(runner, request, response);
    const judged = judgeAnswer(manifest.comparator, { request, response, receipt: receipt.receipt, reference });
    log.info("audit judged", { lease, receipt: receiptId, verdict: judged.verdict, reason: judged.reason });
    return db.recordVerdict({ receipt: receiptId, lease, provider: receipt.receipt.provider, seq: receipt.receipt.seq, ...judged });
  }

  return {
    audit: (body) => inTurn(() => audit(body)),
    get: (receipt) => db.get(receipt),
    async close() {
      clearInterval(timer);
      await watch?.running;
      await queue;
      db.close();
    },
  };
}
