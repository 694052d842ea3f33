// The network's public, read-only pages (the studio's Providers pages and a module's recent runs):
//   GET /v1/network                         providers, open offers, recent deals, gas spent
//   GET /v1/providers/:address              one provider's dashboard: online, capacity, jobs, earnings, slashes
//   GET /v1/network/deals?module=&provider=&limit=   deals newest first, filtered
// Everything shown is public already (the chain's events, the solver's offer book), so no caller
// is asked who it is. Each list is bounded by `limit`; the chain and the offers are read at most
// every few seconds, however many pages ask.
import * as z from "zod";
import { address, cid, parse } from "@lily/protocol";
import type { NetworkReader } from "../network/networkReader.ts";
import { sendJson, type RequestContext, type Route } from "./router.ts";

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;

const limit = z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT);
/** Responses may be reused for as long as the data behind them is (a few seconds). */
const CACHE = { "cache-control": "public, max-age=3" };

/** A query parameter validated on its own, so a refusal names it (`limit`, `provider`, `module`). */
function queryParam<S extends z.ZodType>(ctx: RequestContext, name: string, schema: S): z.output<S> {
  return parse(schema, ctx.query.get(name) ?? undefined, name);
}

export function networkRoutes(reader: NetworkReader): Route[] {
  return [
    {
      method: "GET",
      path: "/v1/network",
      handler: async (ctx) => sendJson(ctx.res, 200, await reader.network(queryParam(ctx, "limit", limit)), CACHE),
    },
    {
      method: "GET",
      path: "/v1/network/deals",
      handler: async (ctx) => {
        const q = {
          module: queryParam(ctx, "module", cid.optional()),
          provider: queryParam(ctx, "provider", address.optional()),
          limit: queryParam(ctx, "limit", limit),
        };
        sendJson(ctx.res, 200, { deals: await reader.deals(q) }, CACHE);
      },
    },
    {
      method: "GET",
      path: "/v1/providers/:address",
      handler: async (ctx) => {
        const who = parse(address, ctx.params.address, "address");
        sendJson(ctx.res, 200, await reader.provider(who, queryParam(ctx, "limit", limit)), CACHE);
      },
    },
  ];
}
