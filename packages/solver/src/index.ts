// @lily/solver: the order book of job and resource offers, the filter/score matcher, and the
// deal proposals it follows until the result is committed.
export * from "./options.ts";
export * from "./server.ts";
export * from "./solver.ts";
export * from "./orderBook.ts";
export * from "./dealTransitions.ts";
export * from "./endings.ts";
export * from "./matcher/resources.ts";
export * from "./matcher/filters.ts";
export * from "./matcher/scores.ts";
export * from "./matcher/match.ts";
