// The store as a process: a BlockStore served over HTTP with the routes from @lily/api.
import { cidForBytes, DAG_JSON_CODEC, decodeRecord, LilyError } from "@lily/protocol";
import { serve, storeRoutes, type RunningServer } from "@lily/api";
import { CID } from "multiformats/cid";
import type { Logger } from "@lily/node-kit";
import { BlockStore } from "./blockstore.ts";
import type { StoreOptions } from "./options.ts";

export const VERSION = "0.1.0";

export async function startStore(opts: StoreOptions, deps: { logger: Logger }): Promise<RunningServer & { blocks: BlockStore }> {
  const blocks = new BlockStore(opts.dataDir);
  const server = await serve(
    storeRoutes,
    {
      health: () => ({ role: "store" as const, version: VERSION, blocks: blocks.count() }),
      putBlock: ({ query, body }) => {
        let cid = cidForBytes(body);
        if (query.codec === "dag-json") {
          try {
            decodeRecord(body);
          } catch (e) {
            throw new LilyError({ code: "INVALID_INPUT", field: "body", message: "body: not canonical dag-json", cause: e });
          }
          cid = CID.createV1(DAG_JSON_CODEC, CID.parse(cid).multihash).toString();
        }
        blocks.put(cid, body);
        deps.logger.debug("block stored", { cid, size: body.length });
        return { cid, size: body.length };
      },
      getBlock: ({ params }) => blocks.get(params.cid),
      hasBlock: ({ params }) => {
        const size = blocks.size(params.cid);
        if (size === undefined) throw new LilyError({ code: "NOT_FOUND", field: "cid", message: `no block ${params.cid}` });
        return { cid: params.cid, size };
      },
    },
    { host: opts.host, port: opts.port, bodyLimits: { bytes: opts.maxBlockBytes }, onError: (e) => deps.logger.error("request failed", { err: e }) },
  );
  deps.logger.info("store listening", { url: server.url, dataDir: opts.dataDir });
  return { ...server, blocks };
}
