// POST /v1/quote: before a job is paid, what its verification policy adds to the price and how
// likely it catches a provider that cheats, from the terms of the provider the solver would most
// likely pick. The SDK's quoteJob, as `lily run --quote` prints it, with the mediation fee POST
// /v1/jobs uses (none), so the quote is for exactly the job the same form would post.
import * as z from "zod";
import { isLilyError, LilyError, uint } from "@lily/protocol";
import type { JobCreator } from "@lily/sdk";
import type { GatewayContext } from "../context.ts";
import { jsonBody, type Route, sendJson } from "./router.ts";

export const QuoteRequest = z.object({
  module: z.string().min(1).max(256),
  max_price: uint,
  policy: z.string().max(64).default("trust"),
  /** The catch probability is also given over this many jobs (a provider cheating on every one). */
  jobs: z.number().int().min(1).max(10_000).default(10),
});

/** The mediation fee POST /v1/jobs reserves: it passes none to submitJob. */
const JOB_MEDIATION_FEE = 0n;

export function quoteRoutes(gw: GatewayContext, jobs: Pick<JobCreator, "quote">): Route[] {
  return [
    {
      method: "POST",
      path: "/v1/quote",
      handler: async (ctx) => {
        gw.auth.anyCaller(ctx.req);
        const body = await jsonBody(ctx, QuoteRequest);
        try {
          const q = await jobs.quote({ module: body.module, policy: body.policy, maxPrice: body.max_price, mediationFee: JOB_MEDIATION_FEE, jobs: body.jobs });
          sendJson(ctx.res, 200, {
            module: body.module,
            policy: q.policy,
            describe: q.describe,
            provider: q.provider,
            price: q.price,
            collateral: q.collateral,
            mediation_fee: q.mediationFee,
            extra_cost: q.extraCost,
            locked_extra: q.lockedExtra,
            per_job_catch: q.perJobCatch,
            catch_probability: q.catchProbability,
            jobs: q.jobs,
            notes: q.notes,
            unsafe: q.unsafe ?? null,
          });
        } catch (e) {
          throw asBodyFields(e);
        }
      },
    },
  ];
}

/** The SDK names the CLI's flags (`--policy`, `--max-price`); over HTTP the body's fields are named. */
function asBodyFields(e: unknown): unknown {
  if (!isLilyError(e) || !e.field?.startsWith("--")) return e;
  const field = e.field.slice(2).replace(/-/g, "_");
  return new LilyError({
    code: e.code,
    field,
    message: e.message.replace(`${e.field}:`, `${field}:`),
    ...(e.hint && { hint: e.hint.replace(/--policy /g, "policy ") }),
    details: e.details,
    cause: e,
  });
}
