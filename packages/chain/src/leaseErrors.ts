// LilyLeases' custom errors as readable sentences (merged into errors.ts's decoder). Terms that
// can never open are INVALID_INPUT naming the field; a late opening DEADLINE_PASSED; a bad
// signature BAD_SIGNATURE; a call by the wrong party or at the wrong time CHAIN_REVERT with
// the error's values.
import type { Args, Sentence } from "./errors.ts";
import { collateralStates, leaseStates } from "./lease.ts";
import { formatLily as lily } from "@lily/protocol";

const time = (unix: bigint) => new Date(Number(unix) * 1000).toISOString();
const state = (n: number) => leaseStates[n] ?? String(n);
const collateral = (n: number) => collateralStates[n] ?? String(n);

export const leaseSentences: Record<string, (a: Args) => Sentence> = {
  LeasesWindowsOutOfRange: (a) => ({
    code: "CONFIG",
    field: "leaseAuditWindowSeconds",
    message: `a lease claim window of ${a.claimWindow} s must be positive and the audit window (${a.auditWindow} s) at least as long`,
  }),
  LeasesInvalidRoyalty: (a) => ({
    code: "INVALID_INPUT",
    field: "royaltyBps",
    message:
      a.royaltyBps > 10_000
        ? `a royalty of ${a.royaltyBps} basis points exceeds the whole payment (at most 10000)`
        : `a royalty of ${a.royaltyBps} basis points needs a model creator to pay it to, not the zero address`,
  }),
  LeasesOpenByPassed: (a) => ({
    code: "DEADLINE_PASSED",
    field: "openBy",
    message: `lease ${a.leaseId} can no longer be opened: its parties gave until ${time(a.openBy)} (chain time ${time(a.timestamp)})`,
    hint: "nothing was locked; sign a new lease",
  }),
  LeasesExpiryNotAfterOpenBy: (a) => ({
    code: "INVALID_INPUT",
    field: "expiresAt",
    message: `lease ${a.leaseId}: it expires at ${time(a.expiresAt)}, not after its openBy ${time(a.openBy)}`,
  }),
  LeasesSameParty: (a) => ({
    code: "INVALID_INPUT",
    field: "provider",
    message: `lease ${a.leaseId}: ${a.account} is both its payer and its provider`,
  }),
  LeasesMediatorIsParty: (a) => ({
    code: "INVALID_INPUT",
    field: "mediator",
    message: `lease ${a.leaseId}: its mediator ${a.mediator} is one of its parties, and nobody rules on their own lease`,
  }),
  LeasesBudgetTooLarge: (a) => ({
    code: "INVALID_INPUT",
    field: "budget",
    message: `lease ${a.leaseId}: a budget of ${a.budget} base units is above the most a lease can hold (${a.max})`,
  }),
  LeasesAlreadyOpened: (a) => ({ code: "CONFLICT", message: `lease ${a.leaseId} has already been opened` }),
  LeasesInvalidSignature: (a) => ({
    code: "BAD_SIGNATURE",
    field: "signature",
    message: `no valid signature by ${a.signer} over this record on this chain and LilyLeases contract`,
  }),
  LeasesNotProvider: (a) => ({
    code: "CHAIN_REVERT",
    message: `only the provider of lease ${a.leaseId} may close it, not ${a.caller}`,
  }),
  LeasesNotMediator: (a) => ({
    code: "CHAIN_REVERT",
    message: `only the mediator lease ${a.leaseId} names may slash it, not ${a.caller}`,
  }),
  LeasesNotOpen: (a) => ({ code: "CHAIN_REVERT", message: `lease ${a.leaseId} is ${state(a.state)}, not open` }),
  LeasesNotEnded: (a) => ({
    code: "CHAIN_REVERT",
    message: `lease ${a.leaseId} is ${state(a.state)}: its collateral is released only once it is closed or expired`,
  }),
  LeasesClaimWindowClosed: (a) => ({
    code: "DEADLINE_PASSED",
    message: `lease ${a.leaseId}: its claim window closed at ${time(a.closedAt)} (chain time ${time(a.timestamp)}); the budget goes back to the payer`,
  }),
  LeasesClaimWindowOpen: (a) => ({
    code: "CHAIN_REVERT",
    message: `lease ${a.leaseId}: its provider may close it until ${time(a.closesAt)} (chain time ${time(a.timestamp)})`,
  }),
  LeasesVoucherOverBudget: (a) => ({
    code: "INVALID_INPUT",
    field: "amount",
    message: `lease ${a.leaseId}: a voucher for ${lily(a.amount)} is above its budget ${lily(a.budget)}`,
  }),
  LeasesCollateralNotLocked: (a) => ({
    code: "CHAIN_REVERT",
    message: `lease ${a.leaseId}: its collateral is already ${collateral(a.collateral)}`,
  }),
  LeasesAuditWindowOpen: (a) => ({
    code: "CHAIN_REVERT",
    message: `lease ${a.leaseId}: its collateral stays slashable until ${time(a.closesAt)} (chain time ${time(a.timestamp)})`,
  }),
  LeasesAuditWindowClosed: (a) => ({
    code: "DEADLINE_PASSED",
    message: `lease ${a.leaseId}: its audit window closed at ${time(a.closedAt)} (chain time ${time(a.timestamp)})`,
  }),
  LeasesReceiptMismatch: (a) => ({
    code: "INVALID_INPUT",
    field: "receipt",
    message: `the receipt is for lease ${a.receiptLease} by ${a.receiptProvider}, not for lease ${a.leaseId} and its provider`,
  }),
};
