// @lily/sdk: the job creator's client.
export * from "./options.ts";
export * from "./journal.ts";
export * from "./progress.ts";
export * from "./context.ts";
export * from "./resolveModule.ts";
export * from "./prepareInputs.ts";
export * from "./checkDeal.ts";
export * from "./submitJob.ts";
export * from "./waitForResult.ts";
export * from "./waitForReplicas.ts";
export * from "./jobCreator.ts";
export * from "./challengeJob.ts";
export * from "./quoteJob.ts";
