// Start a gateway: open its databases, connect to the chain, the solver and the store, and serve
// the OpenAI-compatible API, Halo's sign-in and keys, receipts, jobs, the catalogue and the studio's
// web app on one HTTP port. Every piece is built here and handed to the handlers (composition root
// of the role).
import type { ServerResponse } from "node:http";
import { nodeHttp } from "@lily/api";
import { nodeFetch } from "@lily/protocol";
import { createLogger, type Logger } from "@lily/node-kit";
import { addressesOf, createLilyClient } from "@lily/chain";
import { StoreClient } from "@lily/store";
import { createJobCreator, sqliteJournal } from "@lily/sdk";
import type { Address } from "viem";
import { withDefaults, type GatewayOptionsInput, type GatewayOptions } from "./options.ts";
import { openGatewayDb } from "./db.ts";
import { createModelCatalog } from "./models.ts";
import { createLeaseManager, type LeaseChain } from "./leases/leaseManager.ts";
import { createAnswerBook } from "./answers.ts";
import { createRouter, type Route } from "./http/router.ts";
import { inferenceHandler } from "./http/inference.ts";
import { embeddingsHandler } from "./http/embeddings.ts";
import { catalogRoutes } from "./http/catalogRoutes.ts";
import { createJobRunner } from "./http/jobRoutes.ts";
import type { GatewayContext } from "./context.ts";
import { createHalo } from "./halo/createHalo.ts"; // not the barrel: it also holds the client-side message builder (siwe)
import { haloRoutes } from "./http/haloRoutes.ts";
import { createCatalog } from "./catalog.ts";
import { studioApiRoutes } from "./http/studioApiRoutes.ts";
import { publishRoutes } from "./http/publishRoutes.ts";
import { fileRoutes } from "./http/fileRoutes.ts";
import { quoteRoutes } from "./http/quoteRoutes.ts";
import { resultRoutes } from "./http/resultRoutes.ts";
import { networkRoutes } from "./http/networkRoutes.ts";
import { jobRecordRoutes } from "./http/jobRecordRoutes.ts";
import { createNetworkReader } from "./network/networkReader.ts";
import { defaultStudioDir, studioRoutes } from "./http/studioRoutes.ts";
import { leaseChain } from "./leases/leaseChain.ts";
import { embed } from "./leases/embed.ts";
import { followChallenges } from "./challenges.ts";

export interface RunningGateway {
  url: string;
  port: number;
  address: Address;
  opts: GatewayOptions;
  close(): Promise<void>;
}

export interface GatewayDeps {
  log?: Logger;
  /** The chain calls leases need; default @lily/chain's lease actions over the gateway's account. */
  chain?: LeaseChain;
  /** Unix seconds, for lease terms and expiry; default the wall clock (a test network whose chain time was moved passes its own). */
  now?: () => number;
}

export async function startGateway(input: GatewayOptionsInput, deps: GatewayDeps = {}): Promise<RunningGateway> {
  const opts = withDefaults(input);
  const log = deps.log ?? createLogger({ module: "gateway" });
  const net = opts.network;
  const db = openGatewayDb(opts.home);
  const chain = createLilyClient({
    rpcUrl: net.rpcUrl,
    account: opts.account,
    addresses: addressesOf(net),
  });
  const store = new StoreClient(net.storeUrl);
  const domain = { chainId: net.chainId, verifyingContract: net.leases };
  const mediator = opts.mediatorUrl ? await mediatorAddress(opts.mediatorUrl) : undefined;
  const leases = createLeaseManager(
    { ...opts, mediator },
    { db, account: opts.account, domain, solverUrl: net.solverUrl, chain: deps.chain ?? leaseChain(chain), log: log.child("leases"), now: deps.now },
  );
  const halo = createHalo({ home: opts.home, chainId: net.chainId });
  let url = "";
  const publicUrl = () => opts.publicUrl ?? url;
  const answers = createAnswerBook({
    db,
    store,
    log,
    chainId: net.chainId,
    leases: net.leases,
    mediatorUrl: opts.mediatorUrl,
    onWrongAnswer: (p) => leases.distrust(p),
  });
  const gw: GatewayContext = {
    opts,
    db,
    store,
    log,
    auth: halo.auth,
    models: createModelCatalog({ chain, store, solverUrl: net.solverUrl }),
    leases,
    publicUrl,
    recordAnswer: (meta, caller, request, answered) => answers.record(meta, caller, request, answered),
    embed: (model, input, caller) => embed(leases, model, input, (max) => halo.auth.hold(caller, max)),
  };
  // Jobs accept the gateway's mediator, so optimistic and audit jobs run (and are challenged) through it.
  const jobs = createJobRunner(
    gw,
    createJobCreator(
      { ...net, account: opts.account, mediators: mediator ? [mediator] : [] },
      { journal: sqliteJournal(opts.home === ":memory:" ? ":memory:" : `${opts.home}/jobs.sqlite`) },
    ),
  );
  // A challenge the chain node lost (blocks dropped) is sent again while its window is open.
  const challenges = followChallenges({ db, ctx: jobs.creator.context, log: log.child("challenges"), clock: Date.now });
  // One catalogue (and its cache) for the marketplace and the module pages.
  const catalog = createCatalog({ chain, store, solverUrl: net.solverUrl }, { now: deps.now });
  const routes: Route[] = [
    { method: "GET", path: "/v1/health", handler: async (ctx) => sendHealth(ctx.res, opts.account.address, net.chainId) },
    { method: "POST", path: "/v1/chat/completions", handler: inferenceHandler(gw, "chat") },
    { method: "POST", path: "/v1/completions", handler: inferenceHandler(gw, "completion") },
    { method: "POST", path: "/v1/embeddings", handler: embeddingsHandler(gw) },
    ...catalogRoutes(gw, answers),
    ...jobs.routes,
    ...haloRoutes(halo, () => new URL(publicUrl())),
    ...studioApiRoutes(catalog, opts.devAccountKey),
    ...publishRoutes(gw, catalog),
    // The studio's Run page: file inputs into the store, a quote before paying, a job's result files and transactions.
    ...fileRoutes(gw),
    ...quoteRoutes(gw, jobs.creator),
    ...resultRoutes(gw, { journal: jobs.creator.context.journal, chain: jobs.creator.context.chain }),
    // The studio's Providers pages and a module's recent runs: the network as the chain and the solver show it.
    ...networkRoutes(createNetworkReader(chain, net.solverUrl, { now: deps.now })),
    // The studio's History and job pages: each job's signed records, transactions and outcome; challenging a result.
    ...jobRecordRoutes(gw, { creator: jobs.creator, now: deps.now, challenges }),
    // Last: the studio's files take whatever path no route above claims.
    ...studioRoutes(opts.studioDir ?? defaultStudioDir()),
  ];
  const server = nodeHttp.createServer(createRouter(routes, (err) => log.error("request failed", { error: err })));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  url = `http://${opts.host}:${port}`;
  // Vouchers a crash left undelivered, and leases past their time, are seen to now and then.
  // One sweep at a time: a slow chain must not send the same reclaim twice.
  let sweeping = false;
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    leases.retireExpired();
    void Promise.all([
      leases.redeliver().catch((e: unknown) => log.warn("voucher redelivery failed", { error: e })),
      leases.reclaimAbandoned().catch((e: unknown) => log.warn("reclaiming abandoned leases failed", { error: e })),
    ]).finally(() => {
      sweeping = false;
    });
  }, opts.sweepSeconds * 1000);
  timer.unref();
  log.info("gateway listening", { url, address: opts.account.address });
  return {
    url,
    port,
    address: opts.account.address,
    opts,
    close: async () => {
      clearInterval(timer);
      await challenges.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      halo.close();
      db.close();
    },
  };
}

function sendHealth(res: ServerResponse, address: Address, chainId: number): void {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ role: "gateway", address, chainId }));
}

/** A mediator says who it is at /v1/health. */
async function mediatorAddress(url: string): Promise<Address> {
  const res = await nodeFetch(`${url.replace(/\/$/, "")}/v1/health`);
  const body = (await res.json()) as { address?: Address };
  if (!res.ok || !body.address) throw new Error(`mediator at ${url} did not say its address`);
  return body.address;
}
