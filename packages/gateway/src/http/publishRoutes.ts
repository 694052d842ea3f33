// What the studio's Publish and module pages ask the gateway:
//   GET  /v1/network/config          public: the chain (RPC URL, chain id) and the registry's address,
//                                    so the browser registers name@version itself, from its own account
//   POST /v1/publish/artifacts?cid=  signed in: a module's artifact (a WASI binary, one raw block)
//   POST /v1/publish/manifests?cid=  signed in: its manifest (dag-json), once its artifact is stored
//   GET  /v1/catalog/:name           public: one module's page (latest entry and its versions)
// The gateway only carries bytes into the store, each checked against the CID the uploader names
// before the store sees it. It never registers a module: only its creator's own account may
// (the authority map), so the registry transaction is signed in the browser.
import { HttpRefusal, readBody } from "@lily/api";
import {
  DAG_JSON_CODEC,
  LilyError,
  ModuleManifest,
  RAW_CODEC,
  artifactCids,
  decodeRecord,
  moduleName,
  moduleRef,
  parse,
  parseCid,
  verifyCid,
} from "@lily/protocol";
import { isAddressEqual } from "viem";
import type { Catalog } from "../catalog.ts";
import type { GatewayContext } from "../context.ts";
import { type RequestContext, type Route, sendJson } from "./router.ts";
import { MAX_INPUT_FILE_BYTES } from "./fileRoutes.ts";

/**
 * Largest artifact taken in one request: a WASI binary is one raw block (a container archive goes
 * through `lily module publish`). The same cap as a job's input file: one limit on what a signed-in
 * user may put into the store through the gateway in one block.
 */
export const MAX_ARTIFACT_BYTES = MAX_INPUT_FILE_BYTES;
/** Largest manifest: a record of names, numbers and short texts. */
export const MAX_MANIFEST_BYTES = 256 * 1024;

export function publishRoutes(gw: GatewayContext, catalog: Catalog): Route[] {
  const net = gw.opts.network;
  return [
    {
      method: "GET",
      path: "/v1/network/config",
      // The browser talks to this RPC URL directly: anvil answers cross-origin JSON-RPC (Access-Control-Allow-Origin: *).
      handler: async (ctx) => sendJson(ctx.res, 200, { chainId: net.chainId, rpcUrl: net.rpcUrl, registry: net.registry }, { "cache-control": "no-cache" }),
    },
    {
      method: "POST",
      path: "/v1/publish/artifacts",
      handler: async (ctx) => {
        const caller = gw.auth.anyCaller(ctx.req);
        const cid = expectedCid(ctx, RAW_CODEC, "a raw block's CID (bafkrei…), as a WASI module's executor.wasm names it");
        const body = await readBody(ctx.req, ctx.res, MAX_ARTIFACT_BYTES);
        // REJECT: the bytes must hash to the CID the manifest names, before the store sees them
        refuseMismatch(cid, body, "artifact");
        const stored = await gw.store.putBytes(body);
        gw.log.info("artifact stored for publishing", { cid: stored, bytes: body.length, by: caller.owner });
        sendJson(ctx.res, 201, { cid: stored, size: body.length });
      },
    },
    {
      method: "POST",
      path: "/v1/publish/manifests",
      handler: async (ctx) => {
        const caller = gw.auth.anyCaller(ctx.req);
        const cid = expectedCid(ctx, DAG_JSON_CODEC, "a manifest record's CID (bagu…), as `lily module build` printed it");
        const body = await readBody(ctx.req, ctx.res, MAX_MANIFEST_BYTES);
        refuseMismatch(cid, body, "manifest");
        let record: unknown;
        try {
          record = decodeRecord(body);
        } catch (e) {
          throw new LilyError({
            code: "INVALID_INPUT",
            field: "body",
            message: "body: the manifest is not dag-json (upload build/manifest.json as `lily module build` wrote it)",
            cause: e,
          });
        }
        const manifest = parse(ModuleManifest, record, "manifest");
        // REJECT: a manifest naming another creator would claim their name on the uploader's word (publishBuiltModule's rule)
        if (manifest.creator && !isAddressEqual(manifest.creator, caller.owner)) {
          throw new LilyError({
            code: "FORBIDDEN",
            field: "manifest.creator",
            message: `manifest.creator: ${manifest.creator} is not the signed-in account ${caller.owner}`,
            hint: "set creator to your own address, or leave it out for a module without royalty",
          });
        }
        // REJECT: a royalty needs a creator to be paid
        if (manifest.royaltyBps > 0 && !manifest.creator) {
          throw new LilyError({
            code: "INVALID_INPUT",
            field: "manifest.creator",
            message: "manifest.creator: a module with a royalty must name its creator (your address)",
          });
        }
        // REJECT: a manifest whose artifact is not stored would register a module no provider can run
        for (const artifact of artifactCids(manifest)) {
          if (!(await gw.store.has(artifact))) {
            const field = manifest.executor.kind === "wasm" ? "manifest.executor.wasm" : "manifest.executor.archive";
            throw new LilyError({ code: "INVALID_INPUT", field, message: `${field}: ${artifact} is not in the store; upload the artifact first` });
          }
        }
        const stored = await gw.store.putRecordBytes(body);
        if (stored !== cid) throw new LilyError({ code: "CID_MISMATCH", field: "cid", message: `the store put the manifest under ${stored}, not ${cid}` });
        gw.log.info("manifest stored for publishing", { cid, ref: moduleRef(manifest), by: caller.owner });
        sendJson(ctx.res, 201, { cid, ref: moduleRef(manifest) });
      },
    },
    {
      method: "GET",
      path: "/v1/catalog/:name",
      handler: async (ctx) => {
        const name = parse(moduleName, ctx.params.name, "name");
        sendJson(ctx.res, 200, await catalog.module(name));
      },
    },
  ];
}

/** The `cid` query parameter: a CIDv1 with sha-256 and the codec this route stores. */
function expectedCid(ctx: RequestContext, codec: number, what: string): string {
  const raw = ctx.query.get("cid");
  if (!raw) throw new LilyError({ code: "INVALID_INPUT", field: "cid", message: `cid: missing; give ${what}` });
  const cid = parseCid(raw, "cid");
  if (cid.code !== codec) throw new LilyError({ code: "INVALID_INPUT", field: "cid", message: `cid: ${raw} is not ${what}` });
  return cid.toString();
}

/** A 400 naming `cid` when the body does not hash to it. */
function refuseMismatch(cid: string, body: Uint8Array, what: string): void {
  if (verifyCid(cid, body)) return;
  throw new HttpRefusal(400, {
    code: "CID_MISMATCH",
    field: "cid",
    message: `cid: the ${what} sent (${body.length} bytes) does not hash to ${cid}; nothing was stored`,
  });
}
