// The policy registry: every verification policy the network knows, by name and by id. Adding a
// policy is adding one file here (and one library in the contracts); nothing else changes.
import { policyName, type PolicyName } from "@lily/protocol";
import { badPolicy, type PolicyStrategy } from "./strategy.ts";
import { trust } from "./trust.ts";
import { optimistic } from "./optimistic.ts";
import { replicate } from "./replicate.ts";
import { audit } from "./audit.ts";

export const policies: Readonly<Record<PolicyName, PolicyStrategy>> = { trust, optimistic, replicate, audit };

export interface ParsedPolicy {
  strategy: PolicyStrategy;
  /** The deal's `policyParam`. */
  param: bigint;
}

/**
 * A policy from the user's text: `trust`, `optimistic:90s`, `replicate:3`, `audit:5%`. A policy
 * named alone takes its default parameter. Throws INVALID_INPUT naming `--policy`.
 */
export function parsePolicy(text: string): ParsedPolicy {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(":");
  const name = (colon < 0 ? trimmed : trimmed.slice(0, colon)).toLowerCase();
  const arg = colon < 0 ? "" : trimmed.slice(colon + 1).trim();
  const strategy = Object.hasOwn(policies, name) ? policies[name as PolicyName] : undefined;
  // REJECT: only policies the contracts can settle
  if (!strategy) {
    throw badPolicy(`unknown policy "${name}" (one of ${Object.keys(policies).join(", ")})`, "e.g. --policy optimistic:10m, replicate:3 or audit:10%");
  }
  if (colon >= 0 && arg === "") throw badPolicy(`"${trimmed}" has an empty parameter`, `e.g. --policy ${strategy.format(strategy.defaultParam)}`);
  return { strategy, param: strategy.parse(arg) };
}

/** The strategy for a policy id from a deal or offer; undefined for an id this code does not know. */
export function policyById(id: number): PolicyStrategy | undefined {
  const name = policyName(id);
  return name && policies[name];
}

export { trust, optimistic, replicate, audit };
export { MIN_WINDOW_SECONDS, MAX_WINDOW_SECONDS } from "./optimistic.ts";
export { MIN_REPLICAS, MAX_REPLICAS } from "./replicate.ts";
export type { PolicyStrategy, PolicyTerms, Quote, QuoteParams } from "./strategy.ts";
export { caughtWithin } from "./strategy.ts";
