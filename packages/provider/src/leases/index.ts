// The provider's side of Anura's inference leases: serving models to gateways under leases, paid by
// vouchers, settled on chain once per lease.
export * from "./startLeaseService.ts";
export * from "./leaseBook.ts";
export * from "./leaseChain.ts";
export * from "./loadModel.ts";
export * from "./servedModel.ts";
export * from "./checkLeaseProposal.ts";
export * from "./checkInference.ts";
export * from "./checkVoucher.ts";
export * from "./nextLeaseStep.ts";
export * from "./modelOffers.ts";
