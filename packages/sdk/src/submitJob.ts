// submitJob: resolve the module, validate and store the inputs, check the deposit, sign the job
// offer and post it to the solver. Nothing is locked yet: money moves only when a deal opens.
import { randomBytes } from "node:crypto";
import type { Hex } from "viem";
import { LilyError, Policy, hashRecord, signRecord, type JobOffer, type PolicyName } from "@lily/protocol";
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
  policy?: PolicyName;
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
  const { cid: moduleCid, manifest } = await resolveModule(p.module, ctx.opts.modules, ctx.store);
  const { cid: inputsCid } = await prepareInputs(manifest, p.inputs, ctx.store);
  p.onProgress?.({ stage: "inputs", inputsCid });

  const me = ctx.opts.account.address;
  const balance = await escrowBalance(ctx.chain, { account: me });
  // REJECT: a job offer the job creator cannot pay for would only fail at opening
  if (balance < p.maxPrice) {
    throw new LilyError({
      code: "INSUFFICIENT_DEPOSIT",
      field: "maxPrice",
      message: `escrow deposit ${balance} is below maxPrice ${p.maxPrice}`,
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
    policy: Policy[p.policy ?? "trust"],
    policyParam: 0n,
    mediators: p.mediators ?? [],
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
