// What the solver refuses in an offer before it takes it, besides its signature: offers already
// expired, offers that would sit on the book longer than the solver keeps them, jobs that would
// lock a provider's collateral longer than the solver proposes, policies no contract settles.
// Each is INVALID_INPUT naming the field, and the offer changes nothing.
import { LilyError, policyName, type JobOffer, type ResourceOffer } from "@lily/protocol";
import type { SolverOptions } from "./options.ts";

type Caps = Pick<SolverOptions, "maxJobOfferTtlSeconds" | "maxResourceOfferTtlSeconds" | "maxJobTimeoutSeconds">;

const invalid = (field: string, message: string, hint?: string) =>
  new LilyError({ code: "INVALID_INPUT", field, message: `${field}: ${message}`, ...(hint && { hint }) });

function checkLifetime(expiresAt: bigint, maxTtlSeconds: number, now: number): void {
  // REJECT: an offer that has already expired can never be matched
  if (expiresAt <= BigInt(now)) throw invalid("offer.expiresAt", `${expiresAt} is in the past`);
  // REJECT: an offer may not hold its place on the book longer than the solver keeps offers
  if (expiresAt > BigInt(now + maxTtlSeconds)) {
    throw invalid(
      "offer.expiresAt",
      `${expiresAt} is more than ${maxTtlSeconds}s away`,
      `sign an offer expiring within ${maxTtlSeconds}s and post it again before then`,
    );
  }
}

export function checkJobOffer(offer: JobOffer, caps: Caps, now: number): void {
  checkLifetime(offer.expiresAt, caps.maxJobOfferTtlSeconds, now);
  // REJECT: a job longer than the solver proposes would lock a provider's collateral too long
  if (offer.timeoutSeconds > BigInt(caps.maxJobTimeoutSeconds)) {
    throw invalid("offer.timeoutSeconds", `${offer.timeoutSeconds}s is longer than the ${caps.maxJobTimeoutSeconds}s this solver proposes`);
  }
  // REJECT: a policy the contracts cannot settle would never open
  if (policyName(offer.policy) === undefined) throw invalid("offer.policy", `unknown verification policy ${offer.policy}`);
}

export function checkResourceOffer(offer: ResourceOffer, caps: Caps, now: number): void {
  checkLifetime(offer.expiresAt, caps.maxResourceOfferTtlSeconds, now);
}
