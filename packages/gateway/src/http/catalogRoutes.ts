// GET /v1/models (OpenAI's list, of models some provider offers now), GET /v1/models/:id, the
// answer receipts (GET /v1/receipts/:id: the signed record behind an answer, for anyone holding the
// answer's id to audit it) and a caller's own usage (GET /v1/usage).
import { modelList } from "@lily/api";
import { LilyError } from "@lily/protocol";
import type { GatewayContext } from "../context.ts";
import type { AnswerBook } from "../answers.ts";
import { sendJson, type Route } from "./router.ts";

export function catalogRoutes(gw: GatewayContext, answers: AnswerBook): Route[] {
  return [
    {
      method: "GET",
      path: "/v1/models",
      handler: async (ctx) => {
        gw.auth.anyCaller(ctx.req);
        sendJson(ctx.res, 200, modelList(await gw.models.list()));
      },
    },
    {
      method: "GET",
      path: "/v1/models/:id",
      handler: async (ctx) => {
        gw.auth.anyCaller(ctx.req);
        const listed = (await gw.models.list()).find((m) => m.id === ctx.params.id || m.cid === ctx.params.id);
        if (!listed) throw new LilyError({ code: "UNKNOWN_MODULE", field: "model", message: `The model \`${ctx.params.id}\` does not exist` });
        sendJson(ctx.res, 200, { object: "model", ...listed });
      },
    },
    {
      // Public: a receipt proves itself (signatures and digests), and its id is unguessable.
      method: "GET",
      path: "/v1/receipts/:id",
      handler: async (ctx) => {
        const row = answers.get(ctx.params.id!);
        if (!row) throw new LilyError({ code: "NOT_FOUND", field: "id", message: `no answer ${ctx.params.id}` });
        await answers.stored(row.record);
        const record = await gw.store.getRecord(row.record);
        sendJson(ctx.res, 200, {
          id: row.id,
          cid: row.record,
          record_url: `${gw.opts.network.storeUrl}/v1/blocks/${row.record}`,
          audit: row.audit,
          cost: row.cost,
          record,
        });
      },
    },
    {
      method: "GET",
      path: "/v1/usage",
      handler: async (ctx) => {
        const caller = gw.auth.anyCaller(ctx.req);
        // Asked with a key, the key's own usage; asked with a session, the whole wallet's.
        sendJson(ctx.res, 200, { owner: caller.owner, key: caller.keyId ?? null, models: answers.usage(caller.owner, caller.keyId) });
      },
    },
  ];
}
