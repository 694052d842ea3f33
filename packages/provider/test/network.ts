// A real network for providers to work in: anvil with Lily deployed (mining a block a second, so
// chain time moves on its own), a store with the modules published, a solver, a funded job
// creator and three funded providers, and helpers to post jobs, sign as the job creator and read
// every balance a deal can move.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEther, zeroAddress, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  createLilyClient,
  deployLily,
  deposit,
  devAccounts,
  escrowBalance,
  fundAccount,
  startAnvil,
  totalLocked,
  type Anvil,
  type LilyAddresses,
  type LilyClient,
} from "@lily/chain";
import { createClient, solverRoutes, subscribe, type Client, type SolverRoutes } from "@lily/api";
import { createLogger, type Logger } from "@lily/node-kit";
import { startStore, defaultStoreOptions, StoreClient } from "@lily/store";
import { startSolver, defaultSolverOptions, type SolverOptions } from "@lily/solver";
import { loadCatalog } from "@lily/modules";
import { createWasmExecutor } from "@lily/executor";
import { signRecord, type DealRecord, type Domain, type JobOffer } from "@lily/protocol";
import { defaultProviderOptions, type ProviderOptions } from "../src/options.ts";
import { testKey } from "./proposals.ts";
import { startProvider, type ProviderDeps, type RunningProvider } from "../src/provider.ts";

export const PRICE = parseEther("3");
export const COLLATERAL = parseEther("5");
export const DEPOSIT = parseEther("100");
/** Short, so a dispute nobody rules on can be seen unwinding. */
export const MEDIATION_TIMEOUT_SECONDS = 8;

export interface Network {
  anvil: Anvil;
  addresses: LilyAddresses;
  domain: Domain;
  deployer: LilyClient;
  jobCreator: LilyClient;
  /** Three funded providers. */
  providers: LilyClient[];
  /** A mediator every provider started here accepts (replicate(k) needs one); it never runs. */
  mediator: Address;
  store: StoreClient;
  /** The store's block directory: deleting a block's file makes it vanish. */
  storeDir: string;
  modules: Record<string, string>;
  solver: Client<SolverRoutes>;
  solverUrl: string;
  logger: Logger;
  /** Start a provider for `client` (a new database and work directory unless `dir` is given). */
  startProvider(client: LilyClient, o?: { opts?: Partial<ProviderOptions>; deps?: Partial<ProviderDeps>; dir?: string }): Promise<RunningProvider>;
  /** A cowsay job offer signed by the job creator and posted to the solver. */
  postJob(o?: Partial<JobOffer>): Promise<{ id: Hex; offer: JobOffer }>;
  /** The deals the solver proposed for a job offer. */
  dealsOf(jobOfferId: Hex): Promise<DealRecord[]>;
  /** Sign a deal as the job creator and hand the signature to the solver. */
  signAsJobCreator(deal: DealRecord): Promise<Hex>;
  /** Escrow of the job creator and each provider, and the total locked. */
  ledger(): Promise<{ jobCreator: bigint; providers: bigint[]; locked: bigint }>;
  stop(): Promise<void>;
}

export async function startNetwork(): Promise<Network> {
  const anvil = await startAnvil({ blockTimeSeconds: 1 });
  try {
    return await startOn(anvil);
  } catch (e) {
    await anvil.stop();
    throw e;
  }
}

async function startOn(anvil: Anvil): Promise<Network> {
  const dir = mkdtempSync(join(tmpdir(), "lily-provider-net-"));
  const logger = createLogger({ module: "test", level: (process.env.LILY_TEST_LOG as "info" | undefined) ?? "error" });
  const addresses = await deployLily({
    rpcUrl: anvil.rpcUrl,
    deployerKey: devAccounts[0]!,
    supply: parseEther("1000000"),
    mediationTimeoutSeconds: MEDIATION_TIMEOUT_SECONDS,
  });
  const clientFor = (key: Hex) => createLilyClient({ rpcUrl: anvil.rpcUrl, account: privateKeyToAccount(key), addresses, pollingIntervalMs: 20 });
  const [deployer, jobCreator, p1, p2, p3] = devAccounts.map(clientFor) as [LilyClient, LilyClient, LilyClient, LilyClient, LilyClient];
  const providers = [p1, p2, p3];
  for (const party of [jobCreator, ...providers]) await fundAccount(deployer, { to: party.account!.address, tokens: parseEther("1000") });
  await Promise.all([jobCreator, ...providers].map((party) => deposit(party, { amount: DEPOSIT })));
  const mediator = privateKeyToAccount(testKey("mediator")).address;

  const storeDir = join(dir, "blocks");
  const storeServer = await startStore({ ...defaultStoreOptions, dataDir: storeDir }, { logger });
  const store = new StoreClient(storeServer.url);
  const modules: Record<string, string> = {};
  for (const m of loadCatalog()) {
    modules[m.manifest.name] = await store.putRecordBytes(m.manifestBytes);
    await store.putBytes(m.wasmBytes);
  }

  const domain: Domain = { chainId: addresses.chainId, verifyingContract: addresses.deals };
  const solverOptions: SolverOptions = {
    ...defaultSolverOptions,
    dbPath: join(dir, "solver.db"),
    domain,
    token: addresses.token,
    rpcUrl: anvil.rpcUrl,
    deployBlock: addresses.deployBlock,
    sweepIntervalMs: 200,
    signWindowSeconds: 20,
  };
  const solverServer = await startSolver(solverOptions, { logger });
  const solver = createClient(solverServer.url, solverRoutes);
  const running: RunningProvider[] = [];
  let nonce = 0n;
  let providerCount = 0;

  return {
    anvil,
    addresses,
    domain,
    deployer,
    jobCreator,
    providers,
    mediator,
    store,
    storeDir,
    modules,
    solver,
    solverUrl: solverServer.url,
    logger,
    async startProvider(client, o = {}) {
      const home = o.dir ?? join(dir, `provider-${++providerCount}`);
      const opts: ProviderOptions = {
        ...defaultProviderOptions,
        account: client.account!,
        dbPath: join(home, "provider.db"),
        workDir: join(home, "work"),
        rpcUrl: anvil.rpcUrl,
        chainId: addresses.chainId,
        token: addresses.token,
        deals: addresses.deals,
        deployBlock: addresses.deployBlock,
        solverUrl: solverServer.url,
        storeUrl: storeServer.url,
        resources: { cpu: 4, memoryMb: 4096, gpu: 0, vramMb: 0 },
        price: PRICE,
        collateral: COLLATERAL,
        modules: Object.values(modules),
        mediators: [mediator],
        pollMs: 100,
        ...o.opts,
      };
      const provider = await startProvider(opts, {
        logger: logger.child(`provider-${providerCount}`),
        chain: client,
        solver: createClient(solverServer.url, solverRoutes),
        store,
        executor: createWasmExecutor(),
        watch: (onChange) => subscribe(solverServer.url, { provider: client.account!.address }, onChange, { onOpen: onChange }),
        ...o.deps,
      });
      running.push(provider);
      return provider;
    },
    async postJob(o = {}) {
      const inputs = o.inputs ?? (await store.putRecord({ message: "hello from the provider tests" }));
      const offer: JobOffer = {
        jobCreator: jobCreator.account!.address,
        module: modules.cowsay!,
        inputs,
        cpu: 1,
        memoryMb: 64,
        gpu: 0,
        vramMb: 0,
        maxPrice: PRICE,
        policy: 0,
        policyParam: 0n,
        mediationFee: 0n,
        mediators: [],
        moduleCreator: zeroAddress,
        royaltyBps: 0,
        timeoutSeconds: 60n,
        expiresAt: BigInt(Math.floor(Date.now() / 1000) + 3600),
        nonce: ++nonce,
        ...o,
      };
      const signature = await signRecord(jobCreator.account!, domain, "JobOffer", offer);
      const record = await solver.postJobOffer({ body: { offer, signature } });
      return { id: record.id, offer };
    },
    async dealsOf(jobOfferId) {
      const job = await solver.getJobOffer({ params: { id: jobOfferId } });
      return Promise.all(job.dealIds.map((id) => solver.getDeal({ params: { id } })));
    },
    async signAsJobCreator(deal) {
      const signature = await signRecord(jobCreator.account!, domain, "Deal", deal.deal);
      await solver.signDeal({ params: { id: deal.id }, body: { signer: jobCreator.account!.address, signature } });
      return signature;
    },
    async ledger() {
      const of = (c: LilyClient) => escrowBalance(deployer, { account: c.account!.address });
      return { jobCreator: await of(jobCreator), providers: await Promise.all(providers.map(of)), locked: await totalLocked(deployer) };
    },
    async stop() {
      for (const p of running) await p.close();
      await solverServer.close();
      await storeServer.close();
      await anvil.stop();
    },
  };
}

/** Poll `read` until it returns something, or fail saying what did not happen. */
export async function eventually<T>(what: string, read: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
