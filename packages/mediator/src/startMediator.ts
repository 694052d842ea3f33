// The mediator as a process: its real chain client, solver client, store, WASM executor and the
// system clock, put together from its options. The behaviour is all in `createMediator` (disputes
// on deals) and `createAuditor` (audits of lease answers, served over HTTP with its health).
import { createClient, solverRoutes } from "@lily/api";
import { addressesOf, createLilyClient, leaseRecord, slashLease } from "@lily/chain";
import { createExecutorSet, createLlamaRunner, createWasmExecutor, type ExecutorSet } from "@lily/executor";
import type { Logger } from "@lily/node-kit";
import { LilyError } from "@lily/protocol";
import { StoreClient } from "@lily/store";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createMediator, type RunningMediator } from "./mediator.ts";
import type { MediatorOptions } from "./options.ts";
import { createAuditor, type Auditor, type LeaseChain } from "./audit/createAuditor.ts";
import { createModelSource, type AuditModelRunner } from "./audit/modelSource.ts";
import { startAuditServer } from "./audit/startAuditServer.ts";

export interface StartedMediator extends RunningMediator {
  /** The mediator's HTTP server: GET /v1/health, POST /v1/audits. */
  url: string;
  auditor: Auditor;
}

export interface StartMediatorDeps {
  logger: Logger;
  /** What it re-runs jobs with (default: the WASM sandbox only). */
  executor?: ExecutorSet;
  /** The LilyLeases reads and slash audits use. */
  leaseChain?: LeaseChain;
  /** Loads a GGUF model for audits (default: node-llama-cpp, as providers run it). */
  loadModel?: (modelPath: string) => Promise<AuditModelRunner>;
}

export async function startMediator(opts: MediatorOptions, deps: StartMediatorDeps): Promise<StartedMediator> {
  // REJECT: a model file that is not there would only be found missing at the first audit
  for (const path of opts.models) if (!existsSync(path)) throw new LilyError({ code: "CONFIG", field: "models", message: `models: no file ${path}` });
  const chain = createLilyClient({
    rpcUrl: opts.rpcUrl,
    account: opts.account,
    addresses: addressesOf(opts),
  });
  const store = new StoreClient(opts.storeUrl);
  const mediator = await createMediator(opts, {
    logger: deps.logger,
    chain,
    solver: createClient(opts.solverUrl, solverRoutes, { peer: `solver at ${opts.solverUrl}` }),
    store,
    executor: deps.executor ?? createExecutorSet({ wasm: createWasmExecutor() }),
    clock: { now: () => Date.now() },
  });
  const me = opts.account.address;
  const models = createModelSource({
    store,
    logger: deps.logger,
    localModels: opts.models,
    cacheDir: join(opts.workDir, "models"),
    loadRunner:
      deps.loadModel ??
      ((modelPath) => createLlamaRunner({ modelPath, embeddings: false, onLog: (level, message) => deps.logger[level]("llama.cpp", { message }) })),
  });
  const auditor = createAuditor(
    { dbPath: opts.auditDbPath ?? `${opts.dbPath.replace(/\.db$/, "")}-audits.db`, domain: { chainId: opts.chainId, verifyingContract: opts.leases } },
    {
      logger: deps.logger,
      me,
      chain: deps.leaseChain ?? {
        leaseKnown: async (leaseId) => (await leaseRecord(chain, { leaseId })).state !== "none",
        slashLease: (lease, receipt, providerSignature) => slashLease(chain, { lease, receipt, providerSignature }),
      },
      models,
      blocks: chain,
    },
  );
  const server = await startAuditServer({ host: opts.host, port: opts.port, chainId: opts.chainId, leases: opts.leases }, { auditor, me, logger: deps.logger });
  deps.logger.info("mediator serving audits", { url: server.url, models: opts.models.length });
  let closed: Promise<void> | undefined;
  return {
    ...mediator,
    url: server.url,
    auditor,
    close: () =>
      (closed ??= (async () => {
        await server.close();
        await auditor.close();
        await models.close();
        await mediator.close();
      })()),
  };
}
