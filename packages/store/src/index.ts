// @lily/store: content-addressed blocks (CIDv1, sha-256) on disk, served over HTTP, and the client.
export * from "./blockstore.ts";
export * from "./server.ts";
export * from "./client.ts";
export * from "./fileRoot.ts";
export * from "./chunkedFile.ts";
export * from "./options.ts";
export * from "./dagLinks.ts";
export * from "./trustlessGateway.ts";
export * from "./ipfsPublish.ts";
