// @lily/gateway: Anura (the OpenAI-compatible inference API over leases) and Halo (API keys and
// wallet sign-in). Started by `lily gateway`; `lily devnet` starts one.
export * from "./options.ts";
export * from "./startGateway.ts";
