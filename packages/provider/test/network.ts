// A real network for providers to work in: the local network (mining a block a second, so chain
// time moves on its own, and a short mediation timeout), a funded job creator and three funded
// providers, and helpers to start providers, post jobs, sign as the job creator and read every
// balance a deal can move.
import { join } from "node:path";
import { parseEther, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { devAccounts, escrowBalance, signDealFor, totalLocked, type LilyClient } from "@lily/chain";
import { createClient, solverRoutes, watchChanges } from "@lily/api";
import { createWasmExecutor } from "@lily/executor";
import { signRecord, type DealRecord, type JobOffer } from "@lily/protocol";
import { startLocalNetwork, type LocalNetwork } from "../../../test/support/localNetwork.ts";
import { defaultProviderOptions, type ProviderOptions } from "../src/options.ts";
import { testKey } from "./proposals.ts";
import { startProvider, type ProviderDeps, type RunningProvider } from "../src/provider.ts";
import { PLAIN_JOB_TERMS } from "../../../test/support/jobOffers.ts";

export const PRICE = parseEther("3");
export const COLLATERAL = parseEther("5");
export const DEPOSIT = parseEther("100");
/** Short, so a dispute nobody rules on can be seen unwinding. */
export const MEDIATION_TIMEOUT_SECONDS = 8;

export interface Network extends LocalNetwork {
  jobCreator: LilyClient;
  /** Three funded providers. */
  providers: LilyClient[];
  /** A mediator every provider started here accepts (replicate(k) needs one); it never runs. */
  mediator: Address;
  /** Start a provider for `client` (a new database and work directory unless `dir` is given); the network stops it. */
  startProvider(client: LilyClient, o?: { opts?: Partial<ProviderOptions>; deps?: Partial<ProviderDeps>; dir?: string }): Promise<RunningProvider>;
  /** A cowsay job offer signed by the job creator and posted to the solver. */
  postJob(o?: Partial<JobOffer>): Promise<{ id: Hex; offer: JobOffer }>;
  /** The deals the solver proposed for a job offer. */
  dealsOf(jobOfferId: Hex): Promise<DealRecord[]>;
  /** Sign a deal as the job creator (in the form its route takes) and hand the signature to the solver. */
  signAsJobCreator(deal: DealRecord): Promise<Hex>;
  /** Escrow of the job creator and each provider, and the total locked (LilyDeals', or the given escrow's). */
  ledger(escrow?: Address): Promise<{ jobCreator: bigint; providers: bigint[]; locked: bigint }>;
}

/** `trustDeals`: the network names LilyTrustDeals, so trust deals route there (and each party deposits into its escrow too). */
export async function startNetwork(o: { trustDeals?: boolean } = {}): Promise<Network> {
  const opts = {
    blockTimeSeconds: 1,
    mediationTimeoutSeconds: MEDIATION_TIMEOUT_SECONDS,
    solver: { sweepIntervalMs: 200, signWindowSeconds: 20 },
    ...(o.trustDeals && { trustDeals: true }),
  };
  return startLocalNetwork("provider", opts, withParties);
}

async function withParties(net: LocalNetwork): Promise<Network> {
  const { deployer, domain, endpoints, logger, modules, solver, store } = net;
  const [jobCreator, ...providers] = devAccounts.slice(1, 5).map(net.clientFor) as [LilyClient, LilyClient, LilyClient, LilyClient];
  await net.fund([jobCreator, ...providers], { tokens: parseEther("1000"), deposit: DEPOSIT });
  const mediator = privateKeyToAccount(testKey("mediator")).address;
  let nonce = 0n;
  let providerCount = 0;

  return {
    ...net,
    jobCreator,
    providers,
    mediator,
    async startProvider(client, o = {}) {
      const home = o.dir ?? join(net.dir, `provider-${++providerCount}`);
      const opts: ProviderOptions = {
        ...defaultProviderOptions,
        ...endpoints,
        account: client.account!,
        dbPath: join(home, "provider.db"),
        workDir: join(home, "work"),
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
        solver: createClient(endpoints.solverUrl, solverRoutes),
        store,
        executor: createWasmExecutor(),
        watch: (onChange) => watchChanges(endpoints.solverUrl, { provider: client.account!.address }, onChange, { onOpen: () => onChange(undefined) }),
        ...o.deps,
      });
      net.onStop(() => provider.close());
      return provider;
    },
    async postJob(o = {}) {
      const inputs = o.inputs ?? (await store.putRecord({ message: "hello from the provider tests" }));
      const offer: JobOffer = {
        jobCreator: jobCreator.account!.address,
        module: modules.cowsay,
        inputs,
        cpu: 1,
        memoryMb: 64,
        ...PLAIN_JOB_TERMS,
        maxPrice: PRICE,
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
      // A routed deal is signed under the nonce its provider posted with its own signature.
      const signature = await signDealFor(jobCreator.account!, net.addresses, { dealId: deal.id, deal: deal.deal, trustNonce: deal.trustNonce });
      await solver.signDeal({ params: { id: deal.id }, body: { signer: jobCreator.account!.address, signature } });
      return signature;
    },
    async ledger(escrow) {
      const of = (c: LilyClient) => escrowBalance(deployer, { account: c.account!.address, ...(escrow && { escrow }) });
      return {
        jobCreator: await of(jobCreator),
        providers: await Promise.all(providers.map(of)),
        locked: await totalLocked(deployer, { ...(escrow && { escrow }) }),
      };
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
