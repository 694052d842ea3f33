// @lily/sdk: the job creator's client.
export * from "./options.ts";
export * from "./journal.ts";
export * from "./progress.ts";
export * from "./context.ts";
export * from "./resolveModule.ts";
export * from "./resolveModel.ts";
export * from "./prepareInputs.ts";
export * from "./checkDeal.ts";
export * from "./buildJobOffer.ts";
export * from "./submitJob.ts";
export * from "./explainJob.ts";
export * from "./matchHints.ts";
export * from "./nextStep.ts";
export * from "./waitForResult.ts";
export * from "./cancelJobOffer.ts";
export * from "./jobCreator.ts";
export * from "./challengeJob.ts";
export * from "./challengeStep.ts";
export * from "./followChallenge.ts";
export * from "./quoteJob.ts";
export * from "./noMatch.ts";
export * from "./publishModule.ts";
export * from "./sqliteJournal.ts";
// The account to pass as `account`: signing through libsecp256k1 where it loads (~45 µs a
// signature), where viem's privateKeyToAccount signs in pure JS (~0.5 ms, a few ms on a busy
// 2-core machine: ~7% of a job creator's CPU at load, measured by bench:throughput).
export { keyAccount } from "@lily/protocol";
