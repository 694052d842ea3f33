// The content-addressed store's HTTP API: put bytes (one block, or many as a CAR), get them back
// by CID. The server computes or checks every CID itself, so a client can never store bytes under
// a CID they do not hash to.
import * as z from "zod";
import { cid } from "@lily/protocol";
import { defineRoutes } from "./route.ts";

export const storeRoutes = defineRoutes({
  health: { method: "GET", path: "/v1/health", response: z.object({ role: z.literal("store"), version: z.string(), blocks: z.number() }) },
  putBlock: {
    method: "PUT",
    path: "/v1/blocks",
    query: z.object({ codec: z.enum(["raw", "dag-json"]).default("raw") }),
    body: "bytes",
    response: z.object({ cid, size: z.number() }),
  },
  /**
   * Many blocks in one request: a CARv1 (https://ipld.io/specs/transport/car/carv1/) of raw and
   * dag-json blocks, each checked against its CID before any is stored. Answers each block's CID
   * and size, in the CAR's order.
   */
  putCar: {
    method: "POST",
    path: "/v1/car",
    body: "bytes",
    response: z.object({ blocks: z.array(z.object({ cid, size: z.number() })) }),
  },
  getBlock: { method: "GET", path: "/v1/blocks/:cid", params: z.object({ cid }), response: "bytes" },
  hasBlock: { method: "GET", path: "/v1/blocks/:cid/stat", params: z.object({ cid }), response: z.object({ cid, size: z.number() }) },
});

export type StoreRoutes = typeof storeRoutes;
