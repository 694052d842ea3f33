// The studio's files: the built web app (packages/studio/dist) served at `/`. A file is sent with
// its content type; Vite's hashed assets (/assets/name-<hash>.js) never change under their name,
// so browsers keep them for a year, while index.html is revalidated every time. Any other GET
// outside /v1 is the app's own route (/models/cowsay, /chat): it gets index.html and the app's
// router takes it from there. A path is resolved inside the studio's folder or refused: no `..`,
// however encoded, and no symlink, reaches a file outside it.
import { createReadStream } from "node:fs";
import { readFile, realpath, stat } from "node:fs/promises";
import type http from "node:http";
import { createRequire } from "node:module";
import { dirname, extname, join, resolve, sep } from "node:path";
import { LilyError } from "@lily/protocol";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import type { Route } from "./router.ts";

const gzipAsync = promisify(gzip);

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".webmanifest": "application/manifest+json",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".wasm": "application/wasm",
};

/** Text compresses to a quarter or less (the first page's JavaScript: ~380 kB raw, ~120 kB gzipped). */
const COMPRESSIBLE = new Set([".html", ".js", ".mjs", ".css", ".json", ".map", ".svg", ".txt", ".wasm"]);
/** Gzipped files kept in memory, by path, size and mtime (so a rebuilt file is compressed again). */
const gzipped = new Map<string, Promise<Buffer>>();
/** The studio's built files are a few MB; past this the cache starts over rather than grow. */
const GZIP_CACHE_MAX = 64;

/** Vite names a built asset `<name>-<hash>.<ext>` under /assets: its content never changes under that name. */
const HASHED_ASSET = /^\/assets\/.+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lily studio</title></head>
<body><h1>The studio is not built</h1>
<p>This gateway serves the studio's built files, and there are none yet. Run <code>npm run build:studio</code>, then reload.</p>
<p>The API is at <a href="/v1/models">/v1</a>.</p></body></html>
`;

/** LILY_STUDIO_DIR when set (a studio built elsewhere, e.g. `vite build --outDir`), else @lily/studio's dist. */
export function defaultStudioDir(): string | undefined {
  if (process.env.LILY_STUDIO_DIR) return process.env.LILY_STUDIO_DIR;
  try {
    return join(dirname(createRequire(import.meta.url).resolve("@lily/studio/package.json")), "dist");
  } catch {
    return undefined;
  }
}

/** GET of any path no other route takes: a studio file, or index.html for the app's own routes. Register it last. */
export function studioRoutes(studioDir: string | undefined): Route[] {
  const root = studioDir === undefined ? undefined : resolve(studioDir);
  return [
    {
      method: "GET",
      path: "*",
      handler: async (ctx) => {
        const url = new URL(ctx.req.url ?? "/", "http://gateway");
        // The API's unknown paths stay the API's 404s, never the app's page.
        if (url.pathname === "/v1" || url.pathname.startsWith("/v1/"))
          throw new LilyError({ code: "NOT_FOUND", field: "path", message: `no route GET ${url.pathname}` });
        const realRoot = root === undefined ? undefined : await realpath(root).catch(() => undefined);
        const index = realRoot && (await fileIn(realRoot, "/index.html"));
        if (!realRoot || !index) return sendText(ctx.res, 200, "text/html; charset=utf-8", NOT_BUILT);
        const file = await fileIn(realRoot, decodedPath(url.pathname));
        if (file) return sendFile(ctx.req, ctx.res, file, HASHED_ASSET.test(url.pathname));
        // A missing asset is a 404: index.html served as a script would only confuse the browser.
        if (url.pathname.startsWith("/assets/")) throw new LilyError({ code: "NOT_FOUND", field: "path", message: `no file ${url.pathname}` });
        return sendFile(ctx.req, ctx.res, index, false);
      },
    },
  ];
}

function decodedPath(pathname: string): string {
  let path: string;
  try {
    path = decodeURIComponent(pathname);
  } catch {
    throw new LilyError({ code: "INVALID_INPUT", field: "path", message: "path: not valid percent-encoding" });
  }
  // REJECT: a path that climbs out of the studio's folder, or names a NUL or backslash to trick the file system
  if (path.includes("\0") || path.includes("\\") || path.split("/").includes(".."))
    throw new LilyError({ code: "INVALID_INPUT", field: "path", message: "path: may not leave the studio's folder" });
  return path;
}

interface StudioFile {
  path: string;
  size: number;
  mtime: Date;
}

/** The regular file `path` names inside `root` (symlinks resolved, and still inside), else undefined. */
async function fileIn(root: string, path: string): Promise<StudioFile | undefined> {
  // Dotfiles (.DS_Store, .vite) are not the app's.
  if (path.split("/").some((seg) => seg.startsWith("."))) return undefined;
  const real = await realpath(join(root, path)).catch(() => undefined);
  // REJECT: a file outside the studio's folder, whichever way the path got there
  if (!real?.startsWith(root + sep)) return undefined;
  const st = await stat(real).catch(() => undefined);
  return st?.isFile() ? { path: real, size: st.size, mtime: st.mtime } : undefined;
}

async function sendFile(req: http.IncomingMessage, res: http.ServerResponse, file: StudioFile, immutable: boolean): Promise<void> {
  const ext = extname(file.path).toLowerCase();
  const gz = COMPRESSIBLE.has(ext) && acceptsGzip(req.headers["accept-encoding"]);
  const etag = `"${file.size.toString(16)}-${file.mtime.getTime().toString(16)}${gz ? "-gz" : ""}"`;
  const headers: Record<string, string> = {
    "content-type": CONTENT_TYPES[ext] ?? "application/octet-stream",
    "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
    "x-content-type-options": "nosniff",
    etag,
  };
  // A cache between here and the browser must keep the gzipped and the plain bodies apart.
  if (COMPRESSIBLE.has(ext)) headers.vary = "accept-encoding";
  if (req.headers["if-none-match"] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  if (gz) {
    const body = await gzippedFile(file);
    res.writeHead(200, { ...headers, "content-encoding": "gzip", "content-length": String(body.length) });
    res.end(body);
    return;
  }
  res.writeHead(200, { ...headers, "content-length": String(file.size) });
  createReadStream(file.path)
    .on("error", () => res.destroy())
    .pipe(res);
}

/** Whether an Accept-Encoding header allows gzip (named, or `*`, with a q above 0). */
export function acceptsGzip(header: string | undefined): boolean {
  for (const part of (header ?? "").split(",")) {
    const [coding, ...params] = part.trim().toLowerCase().split(";");
    if (coding !== "gzip" && coding !== "*") continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

function gzippedFile(file: StudioFile): Promise<Buffer> {
  const key = `${file.path}:${file.size}:${file.mtime.getTime()}`;
  let body = gzipped.get(key);
  if (!body) {
    if (gzipped.size >= GZIP_CACHE_MAX) gzipped.clear();
    body = readFile(file.path).then((bytes) => gzipAsync(bytes, { level: 9 }));
    // A failed read is not remembered: the next request tries again.
    body.catch(() => gzipped.delete(key));
    gzipped.set(key, body);
  }
  return body;
}

function sendText(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { "content-type": contentType, "cache-control": "no-cache" });
  res.end(body);
}
