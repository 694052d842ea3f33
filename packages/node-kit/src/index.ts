// @lily/node-kit: what every Lily process needs and no role owns.
export * from "./logger.ts";
export * from "./sqlite.ts";
export * from "./keystore.ts";
export * from "./reliedBlocksTable.ts";
