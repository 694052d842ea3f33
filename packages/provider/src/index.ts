// @lily/provider: the resource provider (Atlas).
export * from "./options.ts";
export * from "./provider.ts";
export * from "./connect.ts";
export * from "./resources.ts";
export * from "./capacity.ts";
export * from "./db.ts";
export * from "./strategy.ts";
export * from "./runJob.ts";
export * from "./checkProposal.ts";
export * from "./nextStep.ts";
export * from "./jobCache.ts";
export * from "./detect.ts";
export * from "./config.ts";
export * from "./pricing.ts";
export * from "./status.ts";
export * from "./metrics.ts";
export * from "./runGate.ts";
