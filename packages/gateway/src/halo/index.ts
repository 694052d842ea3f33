// Halo: identity for the gateway. API keys (shown once, stored hashed) with spending and rate
// limits, and Sign-In with Ethereum sessions, as plain functions over Halo's SQLite database;
// `createHalo` binds them for the gateway's handlers.
export * from "./apiKey.ts";
export * from "./migrations.ts";
export * from "./clearReservations.ts";
export * from "./createApiKey.ts";
export * from "./listApiKeys.ts";
export * from "./revokeApiKey.ts";
export * from "./authenticateKey.ts";
export * from "./reserveSpend.ts";
export * from "./settleSpend.ts";
export * from "./spendingOf.ts";
export * from "./rateLimiter.ts";
export * from "./session.ts";
export * from "./issueNonce.ts";
export * from "./signIn.ts";
export * from "./sessionFor.ts";
export * from "./signOut.ts";
export * from "./createSignInMessage.ts";
export * from "./createHalo.ts";
