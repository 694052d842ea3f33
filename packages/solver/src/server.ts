// The solver as a process: the order book behind every route of `solverRoutes`, live events on
// the same HTTP server, and a timer that sweeps unsigned proposals and expired offers. On start
// it sweeps once, so work left open by a previous run is re-matched before the first request.
import { serve, solverRoutes, attachEventHub, type RunningServer, type LilyEvent } from "@lily/api";
import type { Logger } from "@lily/node-kit";
import type { SolverOptions } from "./options.ts";
import { OrderBook } from "./orderBook.ts";
import { Solver } from "./solver.ts";

export const VERSION = "0.1.0";

export interface RunningSolver extends RunningServer {
  solver: Solver;
}

export async function startSolver(opts: SolverOptions, deps: { logger: Logger }): Promise<RunningSolver> {
  const { logger } = deps;
  const book = new OrderBook(opts.dbPath);
  let hub: { publish(ev: LilyEvent): void; close(): void } | undefined;
  const solver = new Solver(opts, { logger, book, publish: (ev) => hub?.publish(ev) });
  solver.sweep();

  const server = await serve(
    solverRoutes,
    {
      health: () => ({ role: "solver", version: VERSION, chainId: opts.domain.chainId, deals: opts.domain.verifyingContract, token: opts.token }),
      postResourceOffer: ({ body }) => solver.postResourceOffer(body),
      listResourceOffers: () => ({ offers: book.activeResourceOffers() }),
      postJobOffer: ({ body }) => solver.postJobOffer(body),
      getJobOffer: ({ params }) => solver.getJobOffer(params.id),
      getDeal: ({ params }) => solver.getDeal(params.id),
      listDeals: ({ query }) => ({ deals: book.listDeals(query) }),
      signDeal: ({ params, body }) => solver.signDeal(params.id, body.signer, body.signature),
      postDealStatus: ({ params, body }) => solver.setDealStatus(params.id, body),
      postResult: ({ params, body }) => solver.postResult(params.id, body),
    },
    { host: opts.host, port: opts.port, onError: (e, req) => logger.error("request failed", { err: e, method: req.method, url: req.url }) },
  );
  hub = attachEventHub(server.server);

  const timer = setInterval(() => {
    try {
      solver.sweep();
    } catch (e) {
      logger.error("sweep failed", { err: e });
    }
  }, opts.sweepIntervalMs);
  timer.unref();

  logger.info("solver listening", { url: server.url, dbPath: opts.dbPath, chainId: opts.domain.chainId, deals: book.countDeals() });
  let closed: Promise<void> | undefined;
  return {
    ...server,
    solver,
    close: () =>
      (closed ??= (async () => {
        clearInterval(timer);
        hub?.close();
        await server.close();
        book.close();
      })()),
  };
}
