// Batch jobs through the gateway: POST /v1/jobs runs any module as a deal (the gateway is the job
// creator and pays from its escrow), GET /v1/jobs lists the caller's own, GET /v1/jobs/:id shows one,
// and GET /v1/jobs/:id/events follows it live as server-sent events (past events first, so a late
// or reconnecting follower misses nothing). Jobs are journaled in SQLite and followed again after
// a restart.
import * as z from "zod";
import { openSse, writeSse } from "@lily/api";
import { LilyError, uint, toWire, wireJson } from "@lily/protocol";
import { resolveModule, type JobCreator, type JobEntry, type Progress } from "@lily/sdk";
import type { Hex } from "viem";
import type { GatewayContext } from "../context.ts";
import { jsonBody, sendJson, type Route } from "./router.ts";
import type { Caller } from "./caller.ts";
import { refuseNonCidFiles } from "./fileRoutes.ts";

export const JobRequest = z.object({
  module: z.string().min(1).max(256),
  inputs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  max_price: uint,
  policy: z.string().max(64).optional(),
});

/** Stages after which a job has nothing more to say. */
const FINAL = new Set(["completed", "refunded", "failed", "no-match"]);

type JobEvent = { type: "progress"; progress: Progress } | { type: "result"; result: unknown } | { type: "error"; error: { code: string; message: string } };

/** A job as the API shows it (GET /v1/jobs, /v1/jobs/:id, /v1/history). */
export const jobView = (e: JobEntry) => ({
  id: e.jobOfferId,
  module: e.module,
  stage: e.stage,
  deal: e.dealId ?? null,
  result: e.resultCid ?? null,
  error: e.error ?? null,
  created_at: Math.floor(e.createdAt / 1000),
});

export function createJobRunner(gw: GatewayContext, jobs: JobCreator) {
  const events = new Map<string, JobEvent[]>();
  const listeners = new Map<string, Set<(e: JobEvent) => void>>();
  const emit = (id: string, e: JobEvent) => {
    const list = events.get(id) ?? [];
    list.push(e);
    events.set(id, list);
    for (const l of listeners.get(id) ?? []) l(e);
  };

  function follow(id: Hex): void {
    jobs
      .waitForResult({ jobOfferId: id, outDir: `${gw.opts.home}/results/${id.slice(2, 14)}`, onProgress: (p) => emit(id, { type: "progress", progress: p }) })
      .then((r) =>
        emit(id, {
          type: "result",
          result: {
            dealId: r.dealId,
            provider: r.provider,
            price: r.price,
            resultCid: r.resultCid,
            files: r.manifest.files,
            exitCode: r.exitCode,
            stdout: r.stdout,
            // The deal's state when delivered (settled, or committed under a policy that settles later) and its transactions.
            settlement: r.settlement,
            txs: r.txs,
          },
        }),
      )
      .catch((e: unknown) =>
        emit(id, { type: "error", error: { code: e instanceof LilyError ? e.code : "INTERNAL", message: e instanceof Error ? e.message : String(e) } }),
      );
  }

  // A restarted gateway follows every job it had not finished.
  for (const entry of jobs.context.journal.list()) if (!FINAL.has(entry.stage) && entry.signature) follow(entry.jobOfferId);

  function ownedJob(caller: Caller, id: string): JobEntry {
    const row = gw.db.prepare("SELECT owner FROM jobs WHERE id = ?").get(id.toLowerCase()) as { owner: string } | undefined;
    const entry = jobs.context.journal.get(id as Hex);
    if (!row || !entry) throw new LilyError({ code: "NOT_FOUND", field: "id", message: `no job ${id}` });
    // REJECT: a user sees only their own jobs
    if (row.owner.toLowerCase() !== caller.owner.toLowerCase()) throw new LilyError({ code: "FORBIDDEN", field: "id", message: `job ${id} is not yours` });
    return entry;
  }

  const view = jobView;

  const routes: Route[] = [
    {
      method: "POST",
      path: "/v1/jobs",
      handler: async (ctx) => {
        const caller = gw.auth.anyCaller(ctx.req);
        const body = await jsonBody(ctx, JobRequest);
        // REJECT: a file input must be an uploaded file's CID, never a path on the gateway's disk (fileRoutes.ts)
        await refuseNonCidFiles((await resolveModule(body.module, jobs.context)).manifest, body.inputs, gw.store);
        const submitted = await jobs.submitJob({ module: body.module, inputs: body.inputs, maxPrice: body.max_price, policy: body.policy });
        gw.db
          .prepare("INSERT INTO jobs (id, owner, module, created_at) VALUES (?, ?, ?, ?)")
          .run(submitted.jobOfferId.toLowerCase(), caller.owner, body.module, Math.floor(Date.now() / 1000));
        emit(submitted.jobOfferId, { type: "progress", progress: { stage: "offered", jobOfferId: submitted.jobOfferId } });
        follow(submitted.jobOfferId);
        sendJson(ctx.res, 201, view(jobs.context.journal.get(submitted.jobOfferId)!));
      },
    },
    {
      method: "GET",
      path: "/v1/jobs",
      handler: async (ctx) => {
        const caller = gw.auth.anyCaller(ctx.req);
        const rows = gw.db.prepare("SELECT id FROM jobs WHERE owner = ? ORDER BY created_at DESC LIMIT 200").all(caller.owner) as { id: string }[];
        sendJson(ctx.res, 200, {
          object: "list",
          data: rows
            .map((r) => jobs.context.journal.get(r.id as Hex))
            .filter((e) => e !== undefined)
            .map(view),
        });
      },
    },
    {
      method: "GET",
      path: "/v1/jobs/:id",
      handler: async (ctx) => {
        const entry = ownedJob(gw.auth.anyCaller(ctx.req), ctx.params.id!);
        sendJson(ctx.res, 200, { ...view(entry), events: toWire(events.get(entry.jobOfferId) ?? []) });
      },
    },
    {
      method: "GET",
      path: "/v1/jobs/:id/events",
      handler: async (ctx) => {
        const entry = ownedJob(gw.auth.anyCaller(ctx.req), ctx.params.id!);
        const id = entry.jobOfferId;
        openSse(ctx.res);
        const send = (e: JobEvent) => writeSse(ctx.res, { event: e.type, data: wireJson(e) });
        for (const e of events.get(id) ?? []) send(e);
        const done = (events.get(id) ?? []).some((e) => e.type !== "progress");
        if (done || FINAL.has(entry.stage)) return void ctx.res.end();
        const set = listeners.get(id) ?? new Set();
        listeners.set(id, set);
        let listener: ((e: JobEvent) => void) | undefined;
        await new Promise<void>((resolve) => {
          listener = (e: JobEvent) => {
            send(e);
            if (e.type !== "progress") resolve();
          };
          set.add(listener);
          ctx.signal.addEventListener("abort", () => resolve());
        });
        if (listener) set.delete(listener);
        ctx.res.end();
      },
    },
  ];
  return { routes, creator: jobs };
}
