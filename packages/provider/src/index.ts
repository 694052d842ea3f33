// @lily/provider: the resource provider (Atlas) and its executors.
export * from "./options.ts";
export * from "./provider.ts";
export * from "./resources.ts";
export * from "./db.ts";
export * from "./runJob.ts";
export * from "./checkProposal.ts";
export * from "./adversary.ts";
