// The store as a process: a BlockStore served over HTTP with the routes from @lily/api, and the
// same blocks under /ipfs/ as an IPFS trustless gateway (trustlessGateway.ts).
import type * as Http from "node:http";
import { cidForBytes, DAG_JSON_CODEC, decodeRecord, LilyError } from "@lily/protocol";
import { nodeHttp, createHandler, storeRoutes, type RunningServer } from "@lily/api";
import { CID } from "multiformats/cid";
import type { Logger } from "@lily/node-kit";
import { BlockStore } from "./blockstore.ts";
import { blocksOfCar } from "./carUpload.ts";
import { isGatewayRequest, trustlessGatewayHandler } from "./trustlessGateway.ts";
import type { StoreOptions } from "./options.ts";

export const VERSION = "0.1.0";

export async function startStore(opts: StoreOptions, deps: { logger: Logger }): Promise<RunningServer & { blocks: BlockStore }> {
  const blocks = new BlockStore(opts.dataDir);
  const api = createHandler(
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
      putCar: ({ body }) => {
        // Every block is checked before the first is stored: a bad upload changes nothing.
        const uploaded = blocksOfCar(body);
        for (const b of uploaded) blocks.put(b.cid, b.bytes);
        deps.logger.debug("CAR stored", { blocks: uploaded.length, size: body.length });
        return { blocks: uploaded.map((b) => ({ cid: b.cid, size: b.bytes.length })) };
      },
      getBlock: ({ params }) => blocks.get(params.cid),
      hasBlock: ({ params }) => {
        const size = blocks.size(params.cid);
        if (size === undefined) throw new LilyError({ code: "NOT_FOUND", field: "cid", message: `no block ${params.cid}` });
        return { cid: params.cid, size };
      },
    },
    { bodyLimits: { bytes: opts.maxBlockBytes }, onError: (e) => deps.logger.error("request failed", { err: e }) },
  );
  const gateway = trustlessGatewayHandler(blocks, deps);
  const handle = (req: Http.IncomingMessage, res: Http.ServerResponse) => (isGatewayRequest(req.url) ? gateway(req, res) : api(req, res));
  const server = await listen(handle, opts.host, opts.port);
  deps.logger.info("store listening", { url: server.url, dataDir: opts.dataDir });
  return { ...server, blocks };
}

/** `serve` from @lily/api with one more listener in front: the gateway's paths are not API routes. */
async function listen(handle: Http.RequestListener, host: string, port: number): Promise<RunningServer> {
  const server = nodeHttp.createServer(handle);
  // As `serve` does: a PUT over the body limit is refused before the client is told to send it.
  server.on("checkContinue", handle);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  return {
    server,
    port: bound,
    url: `http://${host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
