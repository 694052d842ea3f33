// A job's result and its transactions, for the studio's Run page, to the job's owner only:
//   GET /v1/jobs/:id/result        the deals with their state and every on-chain event (with its
//                                  transaction hash), and once delivered the result's CID, exit
//                                  code and files (name, CID, media type)
//   GET /v1/jobs/:id/files/:name   one result file's bytes, re-hashed against its CID on the way
// Why a route and not a link to the store's block URL: blocks are public by CID (the result's CID
// is on chain), but the store is often not reachable from a browser (an internal address, another
// origin), a block carries no name or media type, and a gateway route keeps the Run page on one
// origin with one credential. Owner-only, so the gateway is no open proxy to the store.
// A module chooses its files' bytes and declares their media types, so nothing it writes may run
// in the studio's origin: only images, audio, plain text and JSON are served inline; every other
// type goes out as an octet-stream attachment, and every file with nosniff and a sandboxing CSP.
import { routedDealEvents, routedDealRecord, type LilyClient } from "@lily/chain";
import { LilyError, ResultManifest, parse } from "@lily/protocol";
import { signedDeals, type JobEntry, type JobJournal } from "@lily/sdk";
import type { Hex } from "viem";
import type { GatewayContext } from "../context.ts";
import type { Caller } from "./caller.ts";
import { type Route, sendJson } from "./router.ts";

/** Types a browser only displays (never runs): served inline. SVG is left out: it can carry script. */
const INLINE_TYPES = new Set([
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "image/bmp",
  "audio/wav",
  "audio/x-wav",
  "audio/mpeg",
  "audio/ogg",
  "audio/flac",
  "audio/webm",
  "text/plain",
  "application/json",
]);

/** By extension, when the module's manifest declares no media type for the file. */
const BY_EXTENSION: Record<string, string> = {
  txt: "text/plain",
  log: "text/plain",
  md: "text/markdown",
  csv: "text/csv",
  json: "application/json",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  bmp: "image/bmp",
  svg: "image/svg+xml",
  wav: "audio/wav",
  mp3: "audio/mpeg",
  ogg: "audio/ogg",
  flac: "audio/flac",
  html: "text/html",
};

export interface ResultDeps {
  journal: JobJournal;
  chain: LilyClient;
}

export function resultRoutes(gw: GatewayContext, deps: ResultDeps): Route[] {
  const outputsOf = moduleOutputs(gw);

  function ownedJob(caller: Caller, id: string): JobEntry {
    const row = gw.db.prepare("SELECT owner FROM jobs WHERE id = ?").get(id.toLowerCase()) as { owner: string } | undefined;
    const entry = deps.journal.get(id as Hex);
    if (!row || !entry) throw new LilyError({ code: "NOT_FOUND", field: "id", message: `no job ${id}` });
    // REJECT: a user sees only their own jobs' results and transactions
    if (row.owner.toLowerCase() !== caller.owner.toLowerCase()) throw new LilyError({ code: "FORBIDDEN", field: "id", message: `job ${id} is not yours` });
    return entry;
  }

  async function files(entry: JobEntry): Promise<{ manifest: ResultManifest; types: Record<string, string> } | undefined> {
    if (!entry.resultCid) return undefined;
    const manifest = parse(ResultManifest, await gw.store.getRecord(entry.resultCid), "result");
    const declared = await outputsOf(entry.offer.module);
    const types = Object.fromEntries(Object.keys(manifest.files).map((name) => [name, mediaType(name, declared[name])]));
    return { manifest, types };
  }

  return [
    {
      method: "GET",
      path: "/v1/jobs/:id/result",
      handler: async (ctx) => {
        const entry = ownedJob(gw.auth.anyCaller(ctx.req), ctx.params.id!);
        const signed = signedDeals(entry);
        const [deals, result] = await Promise.all([
          Promise.all(
            signed.map(async (s) => {
              const id = s.dealId;
              const [{ state }, events] = await Promise.all([routedDealRecord(deps.chain, s), routedDealEvents(deps.chain, s)]);
              return { id, state, events: events.map((e) => ({ name: e.name, tx: e.txHash, block: e.blockNumber })) };
            }),
          ),
          files(entry),
        ]);
        sendJson(
          ctx.res,
          200,
          {
            id: entry.jobOfferId,
            module: entry.module,
            stage: entry.stage,
            deals,
            result: result
              ? {
                  cid: entry.resultCid,
                  exit_code: result.manifest.exitCode,
                  files: Object.entries(result.manifest.files).map(([name, cid]) => ({
                    name,
                    cid,
                    media_type: result.types[name],
                    url: `v1/jobs/${entry.jobOfferId}/files/${encodeURIComponent(name)}`,
                  })),
                }
              : null,
          },
          { "cache-control": "no-store" },
        );
      },
    },
    {
      method: "GET",
      path: "/v1/jobs/:id/files/:name",
      handler: async (ctx) => {
        const entry = ownedJob(gw.auth.anyCaller(ctx.req), ctx.params.id!);
        const name = ctx.params.name!;
        const result = await files(entry);
        if (!result) throw new LilyError({ code: "NOT_FOUND", field: "id", message: `job ${entry.jobOfferId} has no result yet` });
        const cid = Object.hasOwn(result.manifest.files, name) ? result.manifest.files[name] : undefined;
        if (!cid)
          throw new LilyError({ code: "NOT_FOUND", field: "name", message: `name: the result of job ${entry.jobOfferId} has no file ${JSON.stringify(name)}` });
        const bytes = await gw.store.getBytes(cid); // re-hashed against the CID by the client
        const type = result.types[name]!;
        const inline = INLINE_TYPES.has(type);
        ctx.res.writeHead(200, {
          "content-type": inline ? (type.startsWith("text/") ? `${type}; charset=utf-8` : type) : "application/octet-stream",
          "content-length": String(bytes.length),
          "content-disposition": `${inline ? "inline" : "attachment"}; filename="${name.replace(/[^A-Za-z0-9._-]/g, "_")}"`,
          "x-content-type-options": "nosniff",
          "content-security-policy": "default-src 'none'; sandbox",
          // Content-addressed: the same name of the same job is always these bytes.
          "cache-control": "private, max-age=31536000, immutable",
          etag: `"${cid}"`,
          "x-lily-cid": cid,
        });
        ctx.res.end(bytes);
      },
    },
  ];
}

/** A file's media type: the module's declared one, else by its extension, else bytes. stdout and stderr are text. */
export function mediaType(name: string, declared: string | undefined): string {
  if (declared) return declared.toLowerCase().split(";")[0]!.trim();
  if (name === "stdout" || name === "stderr") return "text/plain";
  const ext = name.includes(".") ? name.slice(name.lastIndexOf(".") + 1).toLowerCase() : "";
  return BY_EXTENSION[ext] ?? "application/octet-stream";
}

/** Each module's declared output media types, read once per module CID. */
function moduleOutputs(gw: GatewayContext): (moduleCid: string) => Promise<Record<string, string | undefined>> {
  const cache = new Map<string, Record<string, string | undefined>>();
  return async (cid) => {
    const known = cache.get(cid);
    if (known) return known;
    const manifest = (await gw.store.getRecord(cid)) as { outputs?: Record<string, { mediaType?: unknown }> };
    const out: Record<string, string | undefined> = {};
    for (const [name, o] of Object.entries(manifest.outputs ?? {})) out[name] = typeof o?.mediaType === "string" ? o.mediaType : undefined;
    cache.set(cid, out);
    return out;
  };
}
