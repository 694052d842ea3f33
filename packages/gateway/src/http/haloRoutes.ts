// Halo over HTTP: wallet sign-in (EIP-4361: GET /v1/auth/nonce, POST /v1/auth/signin, POST
// /v1/auth/signout, GET /v1/auth/me) and a signed-in user's API keys (POST /v1/keys shows the new
// key once; GET /v1/keys lists without secrets; DELETE /v1/keys/:id revokes). Keys are managed with
// a session, never with another key, so a leaked key cannot mint more.
import * as z from "zod";
import { LilyError, uint } from "@lily/protocol";
import type { HaloService } from "../halo/index.ts";
import { bearer } from "./caller.ts";
import { jsonBody, sendJson, type Route } from "./router.ts";

export const SignInBody = z.object({
  message: z.string().min(1).max(4096),
  signature: z.string().regex(/^0x[0-9a-fA-F]+$/, "must be a 0x-prefixed hex signature"),
});
export const CreateKeyBody = z.object({
  name: z.string().max(64).optional(),
  /** Spending limit in token base units; none for no limit. */
  limit: uint.optional(),
  /** Requests per minute; none for no limit. */
  rpm: z.number().int().positive().max(1_000_000).optional(),
});

export function haloRoutes(halo: HaloService, origin: () => URL): Route[] {
  const session = (req: Parameters<HaloService["sessionOwner"]>[0]) => halo.sessionOwner(req);
  return [
    { method: "GET", path: "/v1/auth/nonce", handler: async (ctx) => sendJson(ctx.res, 200, halo.nonce()) },
    {
      method: "POST",
      path: "/v1/auth/signin",
      handler: async (ctx) => {
        const body = await jsonBody(ctx, SignInBody);
        sendJson(ctx.res, 200, await halo.signIn(body.message, body.signature as `0x${string}`, origin()));
      },
    },
    {
      method: "POST",
      path: "/v1/auth/signout",
      handler: async (ctx) => {
        const token = bearer(ctx.req);
        if (!token) throw new LilyError({ code: "UNAUTHORIZED", field: "authorization", message: "sign out needs the session token as a bearer token" });
        halo.signOut(token);
        sendJson(ctx.res, 200, { signed_out: true });
      },
    },
    {
      method: "GET",
      path: "/v1/auth/me",
      handler: async (ctx) => sendJson(ctx.res, 200, { address: session(ctx.req), spending: halo.spending(session(ctx.req)) }),
    },
    {
      method: "POST",
      path: "/v1/keys",
      handler: async (ctx) => {
        const owner = session(ctx.req);
        const body = await jsonBody(ctx, CreateKeyBody);
        sendJson(ctx.res, 201, halo.createKey(owner, { name: body.name, limitWei: body.limit, rpm: body.rpm }));
      },
    },
    { method: "GET", path: "/v1/keys", handler: async (ctx) => sendJson(ctx.res, 200, { object: "list", data: halo.listKeys(session(ctx.req)) }) },
    {
      method: "DELETE",
      path: "/v1/keys/:id",
      handler: async (ctx) => {
        halo.revokeKey(session(ctx.req), ctx.params.id!);
        sendJson(ctx.res, 200, { id: ctx.params.id, revoked: true });
      },
    },
  ];
}
