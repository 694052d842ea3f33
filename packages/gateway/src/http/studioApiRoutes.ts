// What the studio asks the gateway besides the API every client uses: the marketplace's catalogue
// (GET /v1/catalog, public, like the registry it reads) and, on a devnet only, its funded
// development account (GET /v1/dev/account), so a browser with no wallet can still sign in. A
// gateway started without `devAccountKey` has no such route: 404, as for any unknown path.
import { privateKeyToAccount } from "viem/accounts";
import type { Hex } from "viem";
import type { Catalog } from "../catalog.ts";
import { sendJson, type Route } from "./router.ts";

export function studioApiRoutes(catalog: Catalog, devAccountKey: Hex | undefined): Route[] {
  const routes: Route[] = [
    {
      method: "GET",
      path: "/v1/catalog",
      handler: async (ctx) => sendJson(ctx.res, 200, { entries: await catalog.entries() }),
    },
  ];
  if (devAccountKey) {
    const dev = { address: privateKeyToAccount(devAccountKey).address, privateKey: devAccountKey };
    routes.push({ method: "GET", path: "/v1/dev/account", handler: async (ctx) => sendJson(ctx.res, 200, dev, { "cache-control": "no-store" }) });
  }
  return routes;
}
