// @lily/api: every route defined once, with the generic server and client derived from them.
export * from "./route.ts";
export * from "./server.ts";
export * from "./client.ts";
export * from "./httpStatus.ts";
export * from "./events.ts";
export * from "./eventHub.ts";
export * from "./solverRoutes.ts";
export * from "./solverSet.ts";
export * from "./storeRoutes.ts";
export { DEFAULT_BODY_LIMITS, readBody, type BodyLimits } from "./readBody.ts";
export * from "./leaseRoutes.ts";
export * from "./sse.ts";
export * from "./openai/index.ts";
export * from "./auditRoutes.ts";
