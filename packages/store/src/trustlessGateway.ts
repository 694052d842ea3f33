// The store as an IPFS trustless gateway (https://specs.ipfs.tech/http-gateways/trustless-gateway/):
// `GET|HEAD /ipfs/<cid>` answers a raw block (application/vnd.ipld.raw) or a CARv1 of the DAG under
// the CID (application/vnd.ipld.car), so standard IPFS tooling (@helia/verified-fetch, Kubo,
// `car` tools) can fetch Lily's results and modules and verify every block itself. Nothing here is
// trusted by such a client; the spec's headers let HTTP caches keep the answers for good (a CID's
// bytes never change).
//
// The DAG of a CAR follows Lily's links (dagLinks.ts): a chunked file's chunks, a result's files, a
// module's binary, as well as IPLD links. Paths under a CID (`/ipfs/<cid>/a/b`) are not served.
import type http from "node:http";
import { CarWriter } from "@ipld/car";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { LilyError } from "@lily/protocol";
import { HttpRefusal, httpStatusFor } from "@lily/api";
import type { Logger } from "@lily/node-kit";
import type { BlockStore } from "./blockstore.ts";
import { walkDag, type DagScope, type EntityBytes } from "./dagLinks.ts";
import { MEDIA_TYPE_CAR } from "./carTransfer.ts";

export const MEDIA_TYPE_RAW = "application/vnd.ipld.raw";
export { MEDIA_TYPE_CAR };
/** A year, as gateways answer for immutable /ipfs/ content. */
const IMMUTABLE = "public, max-age=29030400, immutable";
const IDENTITY = 0x00;

/** What the client asked for, after `format`, `Accept` and the CAR parameters were read. */
type Wanted = { kind: "raw" } | { kind: "car"; scope: DagScope; entityBytes?: EntityBytes };

/** Whether the request is for the gateway (`/ipfs/...`) rather than the store's own API. */
export function isGatewayRequest(url: string | undefined): boolean {
  return url !== undefined && (url === "/ipfs" || url.startsWith("/ipfs/") || url.startsWith("/ipfs?"));
}

/** The request listener for `/ipfs/` on the store's server. */
export function trustlessGatewayHandler(blocks: BlockStore, deps: { logger: Logger }) {
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    try {
      await answer(blocks, req, res);
    } catch (e) {
      if (res.headersSent) {
        // A CAR already streaming cannot change its status: end it short, which a client verifying
        // the CAR sees as incomplete (the spec's answer to a child block gone missing mid-walk).
        deps.logger.warn("trustless gateway: CAR ended short", { url: req.url, err: e });
        res.destroy();
        return;
      }
      if (!(e instanceof LilyError)) deps.logger.error("trustless gateway: request failed", { url: req.url, err: e });
      refuse(res, e);
    }
  };
}

async function answer(blocks: BlockStore, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD")
    throw new HttpRefusal(
      405,
      { code: "INVALID_INPUT", field: "method", message: `method: /ipfs/ takes GET, HEAD, not ${req.method}` },
      { allow: "GET, HEAD" },
    );
  const url = new URL(req.url ?? "/", "http://gateway");
  const [cidText, ...rest] = url.pathname.slice("/ipfs/".length).split("/");
  const cid = parseGatewayCid(cidText ?? "");
  // REJECT: only /ipfs/<cid> is served; paths inside a DAG are not (a raw block has none, by the spec)
  if (rest.some((seg) => seg !== ""))
    throw new LilyError({
      code: "INVALID_INPUT",
      field: "path",
      message: `path: /ipfs/${cid}/${rest.join("/")}: paths under a CID are not served here, ask for the CID itself`,
    });
  const wanted = negotiate(req.headers.accept, url.searchParams);
  const root = readRoot(blocks, cid);
  if (root === undefined) {
    // Cache-Control: only-if-cached asks "do you hold it?": a local store either does or does not.
    if (/only-if-cached/i.test(req.headers["cache-control"] ?? ""))
      throw new HttpRefusal(412, { code: "NOT_FOUND", field: "cid", message: `cid: ${cid} is not held here` });
    throw new LilyError({ code: "NOT_FOUND", field: "cid", message: `cid: no block ${cid} in this store` });
  }

  const headers: Record<string, string> = {
    "cache-control": IMMUTABLE,
    "x-content-type-options": "nosniff",
    "x-ipfs-path": `/ipfs/${cid}`,
    "x-ipfs-roots": cid.toString(),
    vary: "Accept",
    // Public, immutable, content-addressed bytes: any web page may fetch and verify them.
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "Content-Length, Content-Type, Etag, X-Ipfs-Path, X-Ipfs-Roots",
  };
  if (!url.searchParams.has("format")) headers["content-location"] = `/ipfs/${cid}?format=${wanted.kind}`;

  if (wanted.kind === "raw") {
    Object.assign(headers, {
      "content-type": MEDIA_TYPE_RAW,
      "content-disposition": `attachment; filename="${cid}.bin"`,
      "content-length": String(root.length),
      etag: `"${cid}.raw"`,
    });
    if (notModified(req, headers.etag!)) return void res.writeHead(304, headers).end();
    res.writeHead(200, headers);
    res.end(req.method === "HEAD" ? undefined : root);
    return;
  }

  const etag = `"${cid}.car.${carTag(wanted)}"`;
  Object.assign(headers, {
    "content-type": `${MEDIA_TYPE_CAR}; version=1; order=dfs; dups=n`,
    "content-disposition": `attachment; filename="${cid}.car"`,
    etag,
  });
  if (notModified(req, etag)) return void res.writeHead(304, headers).end();
  if (req.method === "HEAD") return void res.writeHead(200, headers).end();
  res.writeHead(200, headers);
  await streamCar(blocks, cid, wanted, res);
}

/** A CID from the path: any valid CID (v0 or v1, base32 or base58btc); 400 naming `cid` otherwise. */
function parseGatewayCid(text: string): CID {
  try {
    return CID.parse(decodeURIComponent(text));
  } catch (e) {
    throw new LilyError({ code: "INVALID_INPUT", field: "cid", message: `cid: not a CID: ${JSON.stringify(text.slice(0, 120))}`, cause: e });
  }
}

/** The root block's bytes, or undefined when this store does not hold it (another hash or codec than it keeps is simply not held). */
function readRoot(blocks: BlockStore, cid: CID): Uint8Array | undefined {
  if (cid.multihash.code === IDENTITY) return cid.multihash.digest;
  if (cid.multihash.code !== sha256.code) return undefined;
  const key = cid.toV1().toString();
  return blocks.size(key) === undefined ? undefined : blocks.get(key);
}

function notModified(req: http.IncomingMessage, etag: string): boolean {
  const inm = req.headers["if-none-match"];
  return (inm ?? "").split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
}

function carTag(w: Extract<Wanted, { kind: "car" }>): string {
  const bytes = w.entityBytes ? `.bytes-${w.entityBytes.from}-${w.entityBytes.to ?? "end"}` : "";
  return `v1.dfs.dups-n.${w.scope}${bytes}`;
}

async function streamCar(blocks: BlockStore, cid: CID, wanted: Extract<Wanted, { kind: "car" }>, res: http.ServerResponse): Promise<void> {
  const { writer, out } = CarWriter.create([cid]);
  const get = async (c: CID) => {
    if (c.multihash.code !== sha256.code) throw new LilyError({ code: "NOT_FOUND", field: "cid", message: `no block ${c}` });
    return blocks.get(c.toV1().toString());
  };
  // The writer waits for each block to be read from `out`, and `out` for the socket to drain, so a
  // slow client holds the walk back instead of the walk filling memory.
  const produce = (async () => {
    try {
      for await (const block of walkDag(cid, get, wanted)) await writer.put(block);
    } finally {
      await writer.close();
    }
  })();
  for await (const chunk of out) {
    if (res.destroyed) {
      // The client went away: drop the walk (its pending put never resolves, and is collected with it).
      produce.catch(() => {});
      return;
    }
    if (!res.write(chunk)) await new Promise<void>((resolve) => res.once("drain", resolve).once("close", resolve));
  }
  // A block that went missing mid-walk rejects here, after the CAR written so far: the caller ends the stream short.
  await produce;
  res.end();
}

// ---- content negotiation ------------------------------------------------------------------------

/**
 * Which representation to send. `format` wins over `Accept` (the spec's SHOULD); the CAR query
 * parameters win over the Accept parameters. No format and no Accept is 400 (a strict trustless
 * gateway has no default); an Accept naming nothing served here (`*\/*`, text/html, CARv2) is 406.
 */
export function negotiate(accept: string | undefined, query: URLSearchParams): Wanted {
  const format = query.get("format");
  let kind: "raw" | "car";
  let carParams: Record<string, string> = {};
  if (format !== null) {
    if (format !== "raw" && format !== "car")
      throw notAcceptable("query.format", `query.format: ${JSON.stringify(format)} is not served here; ask for format=raw or format=car`);
    kind = format;
    if (kind === "car") carParams = pickAccepted(accept)?.params ?? {};
  } else {
    if (accept === undefined || accept.trim() === "")
      throw new LilyError({
        code: "INVALID_INPUT",
        field: "accept",
        message: `accept: ask for ${MEDIA_TYPE_RAW} or ${MEDIA_TYPE_CAR} (or add ?format=raw or ?format=car)`,
      });
    const picked = pickAccepted(accept);
    if (!picked)
      throw notAcceptable(
        "accept",
        `accept: ${JSON.stringify(accept.slice(0, 200))} names nothing served here; ask for ${MEDIA_TYPE_RAW} or ${MEDIA_TYPE_CAR};version=1`,
      );
    kind = picked.kind;
    carParams = picked.params;
  }
  if (kind === "raw") {
    for (const p of ["dag-scope", "entity-bytes", "car-version", "car-order", "car-dups"])
      if (query.has(p)) throw new LilyError({ code: "INVALID_INPUT", field: `query.${p}`, message: `query.${p}: only for CAR requests, not a raw block` });
    return { kind: "raw" };
  }
  const version = query.get("car-version") ?? carParams.version ?? "1";
  if (version !== "1")
    throw notAcceptable(query.has("car-version") ? "query.car-version" : "accept", `CAR version ${version} is not served here, only version=1`);
  const order = query.get("car-order") ?? carParams.order ?? "dfs";
  if (order !== "dfs" && order !== "unk")
    throw notAcceptable(query.has("car-order") ? "query.car-order" : "accept", `CAR order ${order} is not served here, only order=dfs`);
  // dups=y is not served: each block goes once (walkDag says why), as the spec lets a gateway choose.
  const dups = query.get("car-dups") ?? carParams.dups ?? "n";
  if (dups !== "n")
    throw notAcceptable(query.has("car-dups") ? "query.car-dups" : "accept", `CAR dups=${dups} is not served here, only dups=n (each block once)`);
  const scope = query.get("dag-scope") ?? "all";
  if (scope !== "all" && scope !== "entity" && scope !== "block")
    throw new LilyError({ code: "INVALID_INPUT", field: "query.dag-scope", message: `query.dag-scope: ${JSON.stringify(scope)}: block, entity or all` });
  const bytesParam = query.get("entity-bytes");
  if (bytesParam === null) return { kind: "car", scope };
  // entity-bytes implies dag-scope=entity
  return { kind: "car", scope: "entity", entityBytes: parseEntityBytes(bytesParam) };
}

function notAcceptable(field: string, message: string): HttpRefusal {
  return new HttpRefusal(406, { code: "INVALID_INPUT", field, message });
}

/** `from:to` with integers (negative from the end) and `*` for the end as `to`. */
function parseEntityBytes(text: string): EntityBytes {
  const m = /^(-?\d{1,15}):(-?\d{1,15}|\*)$/.exec(text);
  const from = m ? Number(m[1]) : Number.NaN;
  const to = m && m[2] !== "*" ? Number(m[2]) : undefined;
  // REJECT: a range whose two non-negative ends are backwards is empty by construction
  if (!m || (to !== undefined && from >= 0 && to >= 0 && to < from))
    throw new LilyError({
      code: "INVALID_INPUT",
      field: "query.entity-bytes",
      message: `query.entity-bytes: ${JSON.stringify(text)}: from:to, e.g. 0:1048575, 0:* or -1024:*`,
    });
  return { from, to };
}

/** The best media range of `Accept` that is served here, by q then order; undefined when none is. */
function pickAccepted(accept: string | undefined): { kind: "raw" | "car"; params: Record<string, string> } | undefined {
  let best: { kind: "raw" | "car"; params: Record<string, string>; q: number } | undefined;
  for (const range of (accept ?? "").split(",")) {
    const [type, ...rawParams] = range.split(";").map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of rawParams) {
      const eq = p.indexOf("=");
      if (eq > 0)
        params[p.slice(0, eq).trim().toLowerCase()] = p
          .slice(eq + 1)
          .trim()
          .replace(/^"|"$/g, "");
    }
    const q = params.q === undefined ? 1 : Number(params.q);
    if (!(q > 0)) continue;
    const t = type?.toLowerCase();
    let kind: "raw" | "car" | undefined;
    if (t === MEDIA_TYPE_RAW) kind = "raw";
    // A CAR variant this gateway cannot send is skipped, so a later acceptable range can still win.
    else if (t === MEDIA_TYPE_CAR && (params.version ?? "1") === "1" && ["dfs", "unk"].includes(params.order ?? "dfs") && (params.dups ?? "n") === "n")
      kind = "car";
    if (kind && (!best || q > best.q)) best = { kind, params, q };
  }
  return best && { kind: best.kind, params: best.params };
}

// ---- errors ---------------------------------------------------------------------------------------

function refuse(res: http.ServerResponse, e: unknown): void {
  const status = e instanceof HttpRefusal ? e.status : e instanceof LilyError ? httpStatusFor(e.code) : 500;
  const error = e instanceof LilyError ? e.toJSON() : { code: "INTERNAL", message: e instanceof Error ? e.message : String(e) };
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-content-type-options": "nosniff",
    ...(e instanceof HttpRefusal ? e.headers : {}),
  };
  res.writeHead(status, headers);
  res.end(JSON.stringify({ error }));
}
