// Whether the provider countersigns a lease a payer proposed: a pure check of the terms against
// what it serves and on what terms (its model offers), so every rule reads in one place. The
// signature and the escrow balances need I/O and are checked around it (proposeLease.ts).
import { isAddressEqual, zeroAddress, type Address } from "viem";
import { LilyError, type Lease, type RoyaltyTerms } from "@lily/protocol";

/** What the provider serves one model on: the terms of its model offer. */
export interface ModelTerms {
  cid: string;
  inputPricePer1k: bigint;
  outputPricePer1k: bigint;
  /** Staked per lease: a lease must carry exactly this. */
  collateral: bigint;
  /** The model's creator and royalty as the registry holds them (zero for an unregistered model). */
  royalty: RoyaltyTerms;
}

export interface ProposalRules {
  /** This provider. */
  provider: Address;
  models: ReadonlyMap<string, ModelTerms>;
  /** Mediators it accepts; a lease may also name none. */
  mediators: readonly Address[];
  /** The latest openBy it signs, in seconds from now: how long a countersigned lease can hold its collateral unopened. */
  maxOpenDelaySeconds: number;
  /** The longest lease it serves, from now to expiresAt. */
  maxLeaseSeconds: number;
}

const refuse = (code: "INVALID_INPUT" | "UNKNOWN_MODULE" | "DEADLINE_PASSED", field: string, message: string) =>
  new LilyError({ code, field, message: `${field}: ${message}` });

/** Throws the first rule the lease breaks (a LilyError naming the field); returns the model's terms. `now` in unix seconds. */
export function checkLeaseProposal(lease: Lease, rules: ProposalRules, now: number): ModelTerms {
  // REJECT: the lease must name this provider
  if (!isAddressEqual(lease.provider, rules.provider))
    refuseWith(refuse("INVALID_INPUT", "lease.provider", `names ${lease.provider}, not this provider ${rules.provider}`));
  // REJECT: a lease is between two accounts
  if (isAddressEqual(lease.payer, lease.provider)) refuseWith(refuse("INVALID_INPUT", "lease.payer", "is this provider itself"));
  const model = rules.models.get(lease.model);
  // REJECT: only a model this provider serves
  if (!model) refuseWith(refuse("UNKNOWN_MODULE", "lease.model", `${lease.model} is not a model this provider serves`));
  // REJECT: prices at least the provider's own
  if (lease.inputPricePer1k < model.inputPricePer1k)
    refuseWith(refuse("INVALID_INPUT", "lease.inputPricePer1k", `${lease.inputPricePer1k} is below this provider's ${model.inputPricePer1k}`));
  if (lease.outputPricePer1k < model.outputPricePer1k)
    refuseWith(refuse("INVALID_INPUT", "lease.outputPricePer1k", `${lease.outputPricePer1k} is below this provider's ${model.outputPricePer1k}`));
  // REJECT: the collateral its offer stakes, no more and no less
  if (lease.collateral !== model.collateral)
    refuseWith(refuse("INVALID_INPUT", "lease.collateral", `${lease.collateral} is not the ${model.collateral} this provider stakes per lease`));
  // REJECT: no mediator, or one this provider accepts (a mediator can slash the collateral)
  if (!isAddressEqual(lease.mediator, zeroAddress) && !rules.mediators.some((m) => isAddressEqual(m, lease.mediator)))
    refuseWith(refuse("INVALID_INPUT", "lease.mediator", `${lease.mediator} is not a mediator this provider accepts`));
  // REJECT: the royalty comes out of the provider's pay: exactly the one the registry holds for the model
  const r = model.royalty;
  if (lease.royaltyBps !== r.royaltyBps || (r.royaltyBps !== 0 && !isAddressEqual(lease.moduleCreator, r.moduleCreator)))
    refuseWith(
      refuse(
        "INVALID_INPUT",
        lease.royaltyBps !== r.royaltyBps ? "lease.royaltyBps" : "lease.moduleCreator",
        `the model's royalty is ${r.royaltyBps} bps to ${r.moduleCreator}, the lease says ${lease.royaltyBps} bps to ${lease.moduleCreator}`,
      ),
    );
  // REJECT: openBy in the future, and not so far that an unopened lease holds the collateral long
  if (lease.openBy <= BigInt(now)) refuseWith(refuse("DEADLINE_PASSED", "lease.openBy", `${lease.openBy} is not in the future (now ${now})`));
  if (lease.openBy > BigInt(now + rules.maxOpenDelaySeconds))
    refuseWith(refuse("INVALID_INPUT", "lease.openBy", `${lease.openBy} is more than ${rules.maxOpenDelaySeconds}s away`));
  // REJECT: service ends after the lease can open, within the longest lease this provider serves
  if (lease.expiresAt <= lease.openBy) refuseWith(refuse("INVALID_INPUT", "lease.expiresAt", `${lease.expiresAt} is not after openBy ${lease.openBy}`));
  if (lease.expiresAt > BigInt(now + rules.maxLeaseSeconds))
    refuseWith(refuse("INVALID_INPUT", "lease.expiresAt", `${lease.expiresAt} is more than ${rules.maxLeaseSeconds}s away (the longest lease served)`));
  // REJECT: a lease that cannot pay for a single token is no lease
  if (lease.budget === 0n) refuseWith(refuse("INVALID_INPUT", "lease.budget", "is zero"));
  return model;
}

function refuseWith(e: LilyError): never {
  throw e;
}
