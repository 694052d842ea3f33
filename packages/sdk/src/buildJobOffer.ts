// The job offer a job creator would sign for a job, and the deposit it needs: resolve the module,
// type and store the inputs (or, for a dry run, only hash them), and fill in the terms. Shared by
// submitJob (which signs and posts it) and explainJob (which only asks the solver about it).
import { randomBytes } from "node:crypto";
import { zeroAddress, type Address, type Hex } from "viem";
import { dealEscrow, onTrustDeals } from "@lily/chain";
import { LilyError, type JobOffer, type ModuleManifest } from "@lily/protocol";
import { parsePolicy, type PolicyStrategy } from "@lily/verification";
import type { JobCreatorContext } from "./context.ts";
import { resolveModule } from "./resolveModule.ts";
import { prepareInputs, type InputStore } from "./prepareInputs.ts";
import type { OnProgress } from "./progress.ts";

export interface SubmitJobParams {
  /** `name@version` or a module manifest CID. */
  module: string;
  /** Raw inputs; strings are typed by the module's schema, file inputs are paths or CIDs. */
  inputs: Record<string, string | number | boolean>;
  /** The most the job creator will pay, in token base units (per deal; k deals under replicate). */
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

export interface BuiltJobOffer {
  offer: JobOffer;
  manifest: ModuleManifest;
  strategy: PolicyStrategy;
  /** What the job creator's free escrow must cover for the offer: maxPrice and the fee reserve, per deal. */
  deposit: bigint;
}

export async function buildJobOffer(ctx: JobCreatorContext, p: SubmitJobParams, inputStore: InputStore): Promise<BuiltJobOffer> {
  const { strategy, param } = parsePolicy(p.policy ?? "trust");
  const mediators = p.mediators ?? ctx.opts.mediators ?? [];
  // REJECT: a policy that mediates needs someone to mediate
  if (strategy.needsMediators && mediators.length === 0) {
    throw new LilyError({
      code: "INVALID_INPUT",
      field: "--policy",
      message: `--policy: ${strategy.name} needs at least one mediator, and none is known`,
      hint: "start the devnet (it runs a mediator) or pass mediators",
    });
  }
  const { cid: moduleCid, manifest } = await resolveModule(p.module, ctx);
  const { cid: inputsCid } = await prepareInputs(manifest, p.inputs, inputStore);
  p.onProgress?.({ stage: "inputs", inputsCid });
  const mediationFee = p.mediationFee ?? 0n;
  // Policies that mediate reserve the fee per deal; replicate(k) makes k deals.
  const deals = BigInt(strategy.dealsPerJob(param));
  const deposit = (p.maxPrice + (strategy.needsMediators ? mediationFee : 0n)) * deals;
  const offer: JobOffer = {
    jobCreator: ctx.opts.account.address,
    module: moduleCid,
    inputs: inputsCid,
    cpu: manifest.resources.cpu,
    memoryMb: manifest.resources.memoryMb,
    gpu: manifest.resources.gpu,
    vramMb: manifest.resources.vramMb,
    maxPrice: p.maxPrice,
    policy: strategy.id,
    policyParam: param,
    mediationFee,
    mediators,
    // The royalty terms are the module's; both parties check them against its manifest.
    moduleCreator: manifest.creator ?? zeroAddress,
    royaltyBps: manifest.royaltyBps,
    timeoutSeconds: BigInt(p.timeoutSeconds ?? manifest.resources.timeoutSeconds),
    expiresAt: BigInt(Math.floor(Date.now() / 1000) + ctx.submit.offerTtlSeconds),
    nonce: BigInt(`0x${randomBytes(16).toString("hex")}`),
  };
  return { offer, manifest, strategy, deposit };
}

/**
 * The escrow the job's deals will lock from (dealRoute's dealEscrow): LilyTrustDeals' for a trust
 * job on a network that has it, else LilyDeals'. Known from the policy text alone, so the balance
 * read can start before the offer is built.
 */
export function jobEscrow(ctx: JobCreatorContext, policy: string | undefined): { escrow: Address; trust: boolean } {
  const route = { policy: parsePolicy(policy ?? "trust").strategy.id };
  return { escrow: dealEscrow(ctx.chain.addresses, route), trust: onTrustDeals(ctx.chain.addresses, route) };
}

/** INSUFFICIENT_DEPOSIT: the job offer could never open, so it is refused before anything is signed. */
export function insufficientDeposit(balance: bigint, built: BuiltJobOffer, { trust = false }: { trust?: boolean } = {}): LilyError {
  const { offer, strategy, deposit } = built;
  const deals = strategy.dealsPerJob(offer.policyParam);
  const reserve = deposit - offer.maxPrice * BigInt(deals);
  return new LilyError({
    code: "INSUFFICIENT_DEPOSIT",
    field: "maxPrice",
    message: `${trust ? "trust deals escrow (LilyTrustDeals)" : "escrow"} deposit ${balance} is below maxPrice ${offer.maxPrice}${deals > 1 ? ` × ${deals} replicas` : ""}${reserve ? ` plus the mediation fee reserve ${reserve}` : ""}`,
    // A trust job on LilyTrustDeals locks from that contract's own escrow: a LilyDeals deposit does not count.
    hint: trust
      ? "trust deals lock from the LilyTrustDeals escrow: deposit into it with `lily deposit <amount> --trust-escrow` or lower --max-price"
      : "deposit more with `lily deposit <amount>` or lower --max-price",
    details: { balance, maxPrice: offer.maxPrice, needed: deposit, escrow: trust ? "trust" : "deals" },
  });
}
