// The provider's lease API over HTTP (leaseRoutes in @lily/api): the JSON routes through the shared
// route machinery, and the `infer` event stream served by hand beside them. A refusal before the
// stream opens is an ordinary JSON error with its code and field; after, an `error` event.
import type { IncomingMessage, ServerResponse } from "node:http";
import { INFER_PATH, InferBody, nodeHttp, createHandler, httpStatusFor, leaseRoutes, matchPath, readBody, type RunningServer } from "@lily/api";
import { LilyError, hex32, parse } from "@lily/protocol";
import { embedUnderLease } from "./embed.ts";
import { serveInfer } from "./infer.ts";
import type { LeaseContext } from "./leaseContext.ts";
import { answerByTicket, leaseStatus, postVoucher } from "./leaseQueries.ts";
import { proposeLease } from "./proposeLease.ts";

/** The largest `infer` body read: a prompt of MAX_PROMPT_CHARS and some. */
const MAX_INFER_BODY_BYTES = 4 * 1024 * 1024;

export async function startLeaseServer(ctx: LeaseContext, opts: { host: string; port: number }): Promise<RunningServer> {
  const onError = (err: unknown, req: { method?: string; url?: string }) =>
    ctx.logger.error("lease API request failed", { err, method: req.method, url: req.url });
  const routes = createHandler(
    leaseRoutes,
    {
      proposeLease: ({ body }) => proposeLease(ctx, body),
      getLease: ({ params }) => leaseStatus(ctx, params.id),
      postVoucher: ({ params, body }) => postVoucher(ctx, params.id, body),
      getAnswer: ({ params }) => {
        const a = answerByTicket(ctx, params.id, params.ticket);
        return { response: a.response, receipt: a.receipt };
      },
      embed: ({ params, body }) => embedUnderLease(ctx, params.id, body),
    },
    { onError },
  );

  async function infer(req: IncomingMessage, res: ServerResponse, rawId: string): Promise<void> {
    try {
      const id = parse(hex32, rawId, "params.id");
      const raw = await readBody(req, res, MAX_INFER_BODY_BYTES);
      let json: unknown;
      try {
        json = JSON.parse(raw.toString("utf8"));
      } catch {
        throw new LilyError({ code: "INVALID_INPUT", field: "body", message: "body: not valid JSON" });
      }
      await serveInfer(ctx, id, parse(InferBody, json, "body"), res);
    } catch (err) {
      if (!(err instanceof LilyError)) onError(err, req);
      if (res.headersSent) {
        res.end();
        return;
      }
      const e = err instanceof LilyError ? err : new LilyError({ code: "INTERNAL", message: (err as Error).message });
      res.writeHead(e instanceof LilyError && "status" in e ? (e.status as number) : httpStatusFor(e.code), { "content-type": "application/json" });
      res.end(JSON.stringify({ error: e.toJSON() }));
    }
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://lease").pathname;
    let params: Record<string, string> | undefined;
    try {
      params = req.method === "POST" ? matchPath(INFER_PATH, path) : undefined;
    } catch {
      // A path that is not valid percent-encoding: the route machinery answers it with the field.
    }
    if (params) void infer(req, res, params.id!);
    else void routes(req, res);
  };
  const server = nodeHttp.createServer(listener);
  server.on("checkContinue", listener);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    url: `http://${opts.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
