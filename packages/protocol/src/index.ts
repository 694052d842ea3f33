// @lily/protocol: the core every other package depends on, and which depends on none of them.
export * from "./errors.ts";
export * from "./validate.ts";
export * from "./cid.ts";
export * from "./policy.ts";
export * from "./network.ts";
export * from "./mediators.ts";
export * from "./eip712.ts";
export * from "./dealTerms.ts";
export * from "./schemas.ts";
export * from "./module.ts";
export * from "./registry.ts";
export * from "./inputs.ts";
export * from "./units.ts";
export * from "./lease.ts";
export * from "./model.ts";
export * from "./inference.ts";
export * from "./answerRecord.ts";
