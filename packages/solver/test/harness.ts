// What the solver's HTTP tests share: a real chain (anvil, mining a block every second so chain
// time moves on its own) with Lily deployed, funded parties, a real solver server on loopback,
// and signed offers, deals and reports. No stubs: escrow is read from the contract, deal endings
// come from its events.
import type { TestContext } from "node:test";
import { join } from "node:path";
import { parseEther, type Hex, type LocalAccount } from "viem";
import { privateKeyToAccount, generatePrivateKey } from "viem/accounts";
import {
  cidForBytes,
  signRecord,
  isLilyError,
  NO_TX_HASH,
  type DealMessage,
  type DealProgress,
  type Domain,
  type ErrorCode,
  type JobOffer,
  type ReportedDealStatus,
  type ResourceOffer,
} from "@lily/protocol";
import { createLilyClient, deployLily, deposit, devAccounts, fundAccount, startAnvil, type Anvil, type LilyAddresses, type LilyClient } from "@lily/chain";
import { createClient, solverRoutes } from "@lily/api";
import { createLogger } from "@lily/node-kit";
import { startSolver, defaultSolverOptions, type SolverOptions } from "../src/index.ts";
import { PLAIN_JOB_TERMS } from "../../../test/support/jobOffers.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

export const logger = createLogger({ module: "solver", level: "error" });
export const cid = (s: string) => cidForBytes(new TextEncoder().encode(s));
export const primes = cid("primes.wasm");
export const inputs = cid('{"n":10}');
export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000" as const;
export const account = () => privateKeyToAccount(generatePrivateKey());
export const now = () => BigInt(Math.floor(Date.now() / 1000));
export const inAnHour = () => now() + 3600n;
/** Free escrow every funded test party deposits, in LILY wei: far more than any test deal locks. */
export const ESCROW = parseEther("100");
let nonce = 0n;

export type Api = ReturnType<typeof createClient<typeof solverRoutes>>;

export interface TestChain {
  anvil: Anvil;
  addresses: LilyAddresses;
  domain: Domain;
  deployer: LilyClient;
  clientOf(account: LocalAccount): LilyClient;
  /** Give each account gas and `escrow` LILY deposited into its free escrow balance. */
  fund(accounts: readonly LocalAccount[], escrow?: bigint): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestChain(): Promise<TestChain> {
  const anvil = await startAnvil({ blockTimeSeconds: 1 });
  const addresses = await deployLily({ rpcUrl: anvil.rpcUrl, deployerKey: devAccounts[0]!, supply: parseEther("1000000"), trustDeals: true });
  const clientOf = (account: LocalAccount) => createLilyClient({ rpcUrl: anvil.rpcUrl, account, addresses, pollingIntervalMs: 20 });
  const deployer = clientOf(privateKeyToAccount(devAccounts[0]!));
  return {
    anvil,
    addresses,
    domain: { chainId: addresses.chainId, verifyingContract: addresses.deals },
    deployer,
    clientOf,
    async fund(accounts, escrow = ESCROW) {
      // One sender at a time from the deployer; each party then deposits on its own.
      for (const a of accounts) await fundAccount(deployer, { to: a.address, eth: parseEther("1"), tokens: escrow });
      await Promise.all(accounts.map((a) => deposit(clientOf(a), { amount: escrow })));
    },
    stop: () => anvil.stop(),
  };
}

export async function startTestSolver(t: TestContext, chain: TestChain, o: Partial<SolverOptions> = {}) {
  const dbPath = o.dbPath ?? join(tempDir("lily-solver-"), "solver.db");
  const opts: SolverOptions = {
    ...defaultSolverOptions,
    dbPath,
    domain: chain.domain,
    leases: chain.addresses.leases!,
    token: chain.addresses.token,
    rpcUrl: chain.anvil.rpcUrl,
    deployBlock: chain.addresses.deployBlock,
    sweepIntervalMs: 100,
    ...o,
  };
  const solver = await startSolver(opts, { logger });
  t.after(() => solver.close());
  return { solver, dbPath, api: createClient(solver.url, solverRoutes) as Api };
}

/** A test's parties: fresh keys, funded (gas and escrow) unless named in `unfunded`. */
export async function parties<N extends string>(chain: TestChain, names: readonly N[], unfunded: readonly N[] = []): Promise<Record<N, LocalAccount>> {
  const out = Object.fromEntries(names.map((n) => [n, account()])) as Record<N, LocalAccount>;
  await chain.fund(names.filter((n) => !unfunded.includes(n)).map((n) => out[n]));
  return out;
}

export const resourceOffer = (provider: LocalAccount, o: Partial<ResourceOffer> = {}): ResourceOffer => ({
  provider: provider.address,
  cpu: 4,
  memoryMb: 4096,
  gpu: 0,
  vramMb: 0,
  price: 50n,
  collateral: 10n,
  modules: [primes],
  mediators: [],
  expiresAt: inAnHour(),
  nonce: ++nonce,
  ...o,
});
export const jobOffer = (jobCreator: LocalAccount, o: Partial<JobOffer> = {}): JobOffer => ({
  jobCreator: jobCreator.address,
  module: primes,
  inputs,
  cpu: 1,
  memoryMb: 256,
  ...PLAIN_JOB_TERMS,
  maxPrice: 100n,
  timeoutSeconds: 300n,
  expiresAt: inAnHour(),
  nonce: ++nonce,
  ...o,
});

export function signer(domain: Domain) {
  const progressReport = (by: LocalAccount, id: Hex, status: ReportedDealStatus, o: Partial<DealProgress> = {}): DealProgress => ({
    dealId: id,
    provider: by.address,
    status,
    txHash: NO_TX_HASH,
    at: now(),
    error: "",
    ...o,
  });
  const signedProgress = async (by: LocalAccount, progress: DealProgress) => ({ progress, signature: await signRecord(by, domain, "DealProgress", progress) });
  return {
    resourceOffer: async (by: LocalAccount, offer: ResourceOffer) => ({ offer, signature: await signRecord(by, domain, "ResourceOffer", offer) }),
    jobOffer: async (by: LocalAccount, offer: JobOffer) => ({ offer, signature: await signRecord(by, domain, "JobOffer", offer) }),
    deal: (by: LocalAccount, deal: DealMessage) => signRecord(by, domain, "Deal", deal),
    cancel: async (by: LocalAccount, jobOffer: Hex, jobCreator = by.address) => {
      const cancel = { jobOffer, jobCreator, at: now() };
      return { cancel, signature: await signRecord(by, domain, "CancelJobOffer", cancel) };
    },
    progressReport,
    signedProgress,
    /** `by` reports `status` on deal `id`, signed: what a provider process sends. */
    report: (by: LocalAccount, id: Hex, status: ReportedDealStatus, o: Partial<DealProgress> = {}) => signedProgress(by, progressReport(by, id, status, o)),
  };
}

/** Both parties sign deal `id` through the solver, as their processes do. */
export async function signBoth(api: Api, domain: Domain, id: Hex, ...by: LocalAccount[]) {
  const deal = await api.getDeal({ params: { id } });
  for (const party of by)
    await api.signDeal({ params: { id }, body: { signer: party.address, signature: await signRecord(party, domain, "Deal", deal.deal) } });
  return api.getDeal({ params: { id } });
}

export const fails = (code: ErrorCode, field?: string) => (e: unknown) => isLilyError(e, code) && (field === undefined || e.field === field);

/** Poll `read` until it gives a value (not undefined), or fail after `timeoutMs`. */
export async function eventually<T>(read: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
