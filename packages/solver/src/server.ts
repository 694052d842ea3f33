// The solver as a process: the order book behind every route of `solverRoutes`, live events on
// the same HTTP server, and a timer that follows the chain, sweeps and re-matches. On start it
// checks the chain is the one its signatures are bound to and sweeps once, so work left open by a
// previous run (and deals that ended while it was down) is settled before the first request.
// The same server lists providers' model offers (`modelOfferRoutes`) for gateways to find.
import { serve, solverRoutes, modelOfferRoutes, attachEventHub, type RunningServer, type LilyEvent } from "@lily/api";
import { createLilyClient, untilChainAnswers } from "@lily/chain";
import { LilyError } from "@lily/protocol";
import type { Logger } from "@lily/node-kit";
import type { SolverOptions } from "./options.ts";
import { OrderBook } from "./orderBook.ts";
import { Solver } from "./solver.ts";
import { ModelOfferBook } from "./modelOffers/modelOfferBook.ts";
import { postModelOffer } from "./modelOffers/postModelOffer.ts";

export const VERSION = "0.1.0";

export interface RunningSolver extends RunningServer {
  solver: Solver;
}

export async function startSolver(opts: SolverOptions, deps: { logger: Logger }): Promise<RunningSolver> {
  const { logger } = deps;
  const chain = createLilyClient({
    rpcUrl: opts.rpcUrl,
    addresses: {
      chainId: opts.domain.chainId,
      token: opts.token,
      deals: opts.domain.verifyingContract,
      ...(opts.trustDeals && { trustDeals: opts.trustDeals }),
      deployBlock: opts.deployBlock,
    },
  });
  // A chain node away for seconds (restarting) is waited for, not a failed start; a minute is not.
  const chainId = await untilChainAnswers(() => chain.publicClient.getChainId(), {
    onWait: (err) => logger.warn("chain node not answering at start-up; waiting for it", { err }),
  }).catch((e: unknown) => {
    throw new LilyError({ code: "UNREACHABLE", field: "rpcUrl", message: `rpcUrl: no chain answers at ${opts.rpcUrl}`, cause: e });
  });
  // REJECT: a chain other than the one every signature is bound to would give balances and events of the wrong deployment
  if (chainId !== opts.domain.chainId) {
    throw new LilyError({ code: "CONFIG", field: "rpcUrl", message: `rpcUrl: the chain at ${opts.rpcUrl} has id ${chainId}, not ${opts.domain.chainId}` });
  }
  const book = new OrderBook(opts.dbPath, { trustDeals: opts.trustDeals !== undefined });
  let hub: { publish(ev: LilyEvent): void; close(): void } | undefined;
  const solver = new Solver(opts, { logger, book, chain, publish: (ev) => hub?.publish(ev) });
  await solver.sweep();
  const modelOffers = new ModelOfferBook(book.database);
  const modelOfferRules = { ...opts, domain: { chainId: opts.domain.chainId, verifyingContract: opts.leases } };

  const server = await serve(
    { ...solverRoutes, ...modelOfferRoutes },
    {
      health: () => ({ role: "solver", version: VERSION, chainId: opts.domain.chainId, deals: opts.domain.verifyingContract, token: opts.token }),
      postResourceOffer: ({ body }) => solver.postResourceOffer(body),
      getResourceOffer: ({ params }) => solver.getResourceOffer(params.id),
      listResourceOffers: () => ({ offers: book.activeResourceOffers() }),
      postJobOffer: ({ body }) => solver.postJobOffer(body),
      getJobOffer: ({ params }) => solver.getJobOffer(params.id),
      cancelJobOffer: ({ params, body }) => solver.cancelJobOffer(params.id, body),
      explainJobOffer: ({ body }) => solver.explainJobOffer(body.offer, { firstFit: body.firstFit ?? false }),
      getDeal: ({ params }) => solver.getDeal(params.id),
      listDeals: ({ query: { with: also, ...filter } }) => {
        const deals = book.listDeals(filter);
        if (also !== "jobOffers") return { deals };
        const ids = new Set(deals.filter((d) => d.status === "proposed").map((d) => d.jobOfferId));
        return { deals, jobOffers: [...ids].map((id) => book.getJobOffer(id)).filter((j) => j !== undefined) };
      },
      signDeal: ({ params, body }) => solver.signDeal(params.id, body.signer, body.signature, body.trustNonce),
      postDealStatus: ({ params, body }) => solver.setDealStatus(params.id, body),
      postResult: ({ params, body }) => solver.postResult(params.id, body),
      postModelOffer: ({ body }) => {
        // REJECT: without the LilyLeases address (a solver started before leases existed) no model offer's signature can be checked
        if (!opts.leases) throw new LilyError({ code: "CONFIG", field: "leases", message: "leases: this solver was started without the LilyLeases address" });
        return postModelOffer({ db: book.database, book: modelOffers }, modelOfferRules, body, Date.now());
      },
      listModelOffers: ({ query }) => ({ offers: modelOffers.list(query.model, Math.floor(Date.now() / 1000)) }),
    },
    { host: opts.host, port: opts.port, onError: (e, req) => logger.error("request failed", { err: e, method: req.method, url: req.url }) },
  );
  hub = attachEventHub(server.server);

  // One sweep at a time: a slow chain delays the next tick rather than stacking sweeps up.
  let sweeping: Promise<void> | undefined;
  const timer = setInterval(() => {
    sweeping ??= solver
      .sweep()
      .catch((e) => logger.error("sweep failed", { err: e }))
      .finally(() => (sweeping = undefined));
  }, opts.sweepIntervalMs);
  timer.unref();

  logger.info("solver listening", { url: server.url, dbPath: opts.dbPath, chainId: opts.domain.chainId, rpcUrl: opts.rpcUrl, deals: book.countDeals() });
  let closed: Promise<void> | undefined;
  return {
    ...server,
    solver,
    close: () =>
      (closed ??= (async () => {
        clearInterval(timer);
        hub?.close();
        await server.close();
        await sweeping;
        book.close();
      })()),
  };
}
