// submitJob: resolve the module, validate and store the inputs, check the deposit, sign the job
// offer and post it to the solver. Nothing is locked yet: money moves only when a deal opens.
import { randomBytes } from "node:crypto";
import { zeroAddress, type Hex } from "viem";
import { LilyError, Policy, hashRecord, signRecord, type JobOffer } from "@lily/protocol";
import { parsePolicy } from "@lily/verification";
import { escrowBalance } from "@lily/chain";
import type { JobCreatorContext } from "./context.ts";
import { resolveModule } from "./resolveModule.ts";
import { prepareInputs } from "./prepareInputs.ts";
import type { OnProgress } from "./progress.ts";

export interface SubmitJobParams {
  /** `name@version` or a module manifest CID. */
  module: string;
  /** Raw inputs; strings are typed by the module's schema, file inputs are paths or CIDs. */
  inputs: Record<string, string | number | boolean>;
  /** The most the job creator will pay, in token base units. */
  maxPrice: bigint;
  /** A verification policy as text: `trust` (default), `optimistic:10m`, `audit:10%`, `replicate:3`. */
  policy?: string;
  /** Paid to a mediator by whoever a mediation proves wrong; required by policies that mediate. */
  mediationFee?: bigint;
  /** Seconds the provider has once the deal is open; defaults to the module's timeout. */
  timeoutSeconds?: number;
  mediators?: Hex[];
  onProgress?: OnProgress;
}

export interface SubmittedJob {
  jobOfferId: Hex;
  offer: JobOffer;
  signature: Hex;
  moduleRef: string;
}

export async function submitJob(ctx: JobCreatorContext, p: SubmitJobParams): Promise<SubmittedJob> {
  const { strategy, param } = parsePolicy(p.policy ?? "trust");
  const mediators = p.mediators ?? ctx.opts.mediators ?? [];
  // REJECT: a policy that mediates needs someone to mediate
  if (strategy.needsMediators && mediators.length === 0) {
    throw new LilyError({ code: "INVALID_INPUT", field: "--policy", message: `--policy: ${strategy.name} needs at least one mediator, and none is known`, hint: "start the devnet (it runs a mediator) or pass mediators" });
  }
  const { cid: moduleCid, manifest } = await resolveModule(p.module, ctx.opts.modules, ctx.store);
  const { cid: inputsCid } = await prepareInputs(manifest, p.inputs, ctx.store);
  p.onProgress?.({ stage: "inputs", inputsCid });

  const me = ctx.opts.account.address;
  const balance = await escrowBalance(ctx.chain, { account: me });
  // Policies that mediate reserve the fee per deal; replicate(k) makes k deals.
  const deals = BigInt(strategy.dealsPerJob(param));
  const reserve = strategy.needsMediators ? (p.mediationFee ?? 0n) * deals : 0n;
  // REJECT: a job offer the job creator cannot pay for would only fail at opening
  if (balance < p.maxPrice * deals + reserve) {
    throw new LilyError({
      code: "INSUFFICIENT_DEPOSIT",
      field: "maxPrice",
      message: `escrow deposit ${balance} is below maxPrice ${p.maxPrice}${deals > 1n ? ` × ${deals} replicas` : ""}${reserve ? ` plus the mediation fee reserve ${reserve}` : ""}`,
      hint: "deposit more with `lily deposit <amount>` or lower --max-price",
      details: { balance, maxPrice: p.maxPrice },
    });
  }
  const now = Math.floor(Date.now() / 1000);
  const offer: JobOffer = {
    jobCreator: me,
    module: moduleCid,
    inputs: inputsCid,
    cpu: manifest.resources.cpu,
    memoryMb: manifest.resources.memoryMb,
    gpu: 0,
    vramMb: 0,
    maxPrice: p.maxPrice,
    policy: strategy.id,
    policyParam: param,
    mediationFee: p.mediationFee ?? 0n,
    mediators,
    // The royalty terms are the module's; both parties check them against its manifest.
    moduleCreator: manifest.creator ?? zeroAddress,
    royaltyBps: manifest.royaltyBps,
    timeoutSeconds: BigInt(p.timeoutSeconds ?? manifest.resources.timeoutSeconds),
    expiresAt: BigInt(now + ctx.submit.offerTtlSeconds),
    nonce: BigInt(`0x${randomBytes(16).toString("hex")}`),
  };
  const signature = await signRecord(ctx.opts.account, ctx.domain, "JobOffer", offer);
  const jobOfferId = hashRecord(ctx.domain, "JobOffer", offer);
  ctx.journal.put({ jobOfferId, module: p.module, offer, signature, stage: "submitted", createdAt: Date.now() });
  const record = await ctx.solver.postJobOffer({ body: { offer, signature } });
  if (record.id !== jobOfferId) throw new LilyError({ code: "CONFLICT", message: `solver answered job offer id ${record.id}, expected ${jobOfferId}` });
  p.onProgress?.({ stage: "offered", jobOfferId });
  return { jobOfferId, offer, signature, moduleRef: p.module };
}
