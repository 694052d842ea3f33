// @lily/solver: the order book of job and resource offers, the filter/score matcher, and the
// deal proposals it follows, on chain, until they end.
export * from "./options.ts";
export * from "./server.ts";
export * from "./solver.ts";
export * from "./orderBook.ts";
export * from "./dealTransitions.ts";
export * from "./endings.ts";
export * from "./chainEndings.ts";
export * from "./chain/dealEvents.ts";
export * from "./matcher/resources.ts";
export * from "./matcher/filters.ts";
export * from "./matcher/scores.ts";
export * from "./matcher/locks.ts";
export * from "./matcher/group.ts";
export * from "./matcher/match.ts";
export * from "./matcher/explain.ts";
export * from "./matcher/offerIndex.ts";
export * from "./matching.ts";
export * from "./publisher.ts";
