// A real network for the job creator's client: anvil (a block every second, so chain time moves
// on its own) with Lily deployed, a store holding the cowsay module, a solver, a funded job
// creator, and providers the test drives by hand, step by step, so each can misbehave: sign or
// withhold its signature, open or not, commit a result. Money is read from the contracts.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, parseEther, toHex, type Address, type Hex, type LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  commitResult,
  createLilyClient,
  deployLily,
  deposit,
  devAccounts,
  escrowBalance,
  fundAccount,
  openDeal,
  startAnvil,
  type LilyClient,
} from "@lily/chain";
import { createClient, solverRoutes, type Client, type SolverRoutes } from "@lily/api";
import { createLogger } from "@lily/node-kit";
import { startStore, defaultStoreOptions, StoreClient } from "@lily/store";
import { startSolver, defaultSolverOptions } from "@lily/solver";
import { loadCatalog } from "@lily/modules";
import { cidDigest, signRecord, type DealRecord, type ResourceOffer, type Result, type ResultManifest } from "@lily/protocol";
import { createJobCreator, memoryJournal, type JobCreator, type JobJournal, type SubmitDefaults } from "../src/index.ts";

export const PRICE = parseEther("3");
export const COLLATERAL = parseEther("5");
export const DEPOSIT = parseEther("100");
/** How long the solver gives both parties to sign; a deal's openBy is this far after its proposal. */
export const SIGN_WINDOW_SECONDS = 8;

const key = (name: string): Hex => keccak256(toHex(`lily sdk network key: ${name}`));

export interface Provider {
  account: LocalAccount;
  chain: LilyClient;
  /** Post a signed resource offer for cowsay. */
  offer(o?: Partial<ResourceOffer>): Promise<void>;
  /** The deal the solver proposed to this provider for `jobOfferId`, once there is one. */
  proposal(jobOfferId: Hex): Promise<DealRecord>;
  sign(record: DealRecord): Promise<void>;
  open(record: DealRecord): Promise<void>;
  /** Store a result with this stdout, commit its digest on chain and post the signed Result. */
  commit(record: DealRecord, stdout: string): Promise<string>;
}

export interface Network {
  jc: JobCreator;
  jobCreator: LocalAccount;
  journal: JobJournal;
  providers: Provider[];
  providerOf(address: Address): Provider;
  mediator: Address;
  solver: Client<SolverRoutes>;
  store: StoreClient;
  /** Free escrow of the job creator and each provider, in that order. */
  balances(): Promise<bigint[]>;
  stop(): Promise<void>;
}

export async function startNetwork(submit: Partial<SubmitDefaults> = {}): Promise<Network> {
  const dir = mkdtempSync(join(tmpdir(), "lily-sdk-net-"));
  const logger = createLogger({ module: "test", level: "error" });
  const anvil = await startAnvil({ blockTimeSeconds: 1 });
  const addresses = await deployLily({ rpcUrl: anvil.rpcUrl, deployerKey: devAccounts[0]!, supply: parseEther("1000000") });
  const clientFor = (account: LocalAccount) => createLilyClient({ rpcUrl: anvil.rpcUrl, account, addresses, pollingIntervalMs: 20 });
  const deployer = clientFor(privateKeyToAccount(devAccounts[0]!));
  const jobCreator = privateKeyToAccount(key("job creator"));
  const accounts = [jobCreator, ...[1, 2, 3].map((i) => privateKeyToAccount(key(`provider ${i}`)))];
  for (const a of accounts) await fundAccount(deployer, { to: a.address, eth: parseEther("1"), tokens: DEPOSIT });
  await Promise.all(accounts.map((a) => deposit(clientFor(a), { amount: DEPOSIT })));
  const mediator = privateKeyToAccount(key("mediator")).address;

  const storeServer = await startStore({ ...defaultStoreOptions, dataDir: join(dir, "blocks") }, { logger });
  const store = new StoreClient(storeServer.url);
  const cowsay = loadCatalog().find((e) => e.ref === "cowsay@1.0.0")!;
  const module = await store.putRecordBytes(cowsay.manifestBytes);
  await store.putBytes(cowsay.wasmBytes);

  const domain = { chainId: addresses.chainId, verifyingContract: addresses.deals };
  const solverServer = await startSolver(
    {
      ...defaultSolverOptions,
      dbPath: join(dir, "solver.db"),
      domain,
      token: addresses.token,
      rpcUrl: anvil.rpcUrl,
      deployBlock: addresses.deployBlock,
      signWindowSeconds: SIGN_WINDOW_SECONDS,
      sweepIntervalMs: 200,
    },
    { logger },
  );
  const solver = createClient(solverServer.url, solverRoutes);
  const journal = memoryJournal();
  const jc = createJobCreator(
    {
      account: jobCreator,
      rpcUrl: anvil.rpcUrl,
      chainId: addresses.chainId,
      token: addresses.token,
      deals: addresses.deals,
      deployBlock: addresses.deployBlock,
      solverUrl: solverServer.url,
      storeUrl: storeServer.url,
      modules: { "cowsay@1.0.0": module },
      mediators: [mediator],
    },
    { journal, submit: { pollMs: 100, openGraceMs: 2_000, ...submit } },
  );

  let nonce = 0n;
  const provider = (account: LocalAccount): Provider => {
    const chain = clientFor(account);
    return {
      account,
      chain,
      async offer(o = {}) {
        const offer: ResourceOffer = {
          provider: account.address,
          cpu: 4,
          memoryMb: 4096,
          gpu: 0,
          vramMb: 0,
          price: PRICE,
          collateral: COLLATERAL,
          modules: [module],
          mediators: [mediator],
          expiresAt: BigInt(Math.floor(Date.now() / 1000) + 3600),
          nonce: ++nonce,
          ...o,
        };
        await solver.postResourceOffer({ body: { offer, signature: await signRecord(account, domain, "ResourceOffer", offer) } });
      },
      proposal: (jobOfferId) =>
        eventually(async () => {
          const { deals } = await solver.listDeals({ query: { provider: account.address } });
          return deals.find((d) => d.jobOfferId === jobOfferId && d.status !== "rejected");
        }),
      async sign(record) {
        await solver.signDeal({
          params: { id: record.id },
          body: { signer: account.address, signature: await signRecord(account, domain, "Deal", record.deal) },
        });
      },
      async open(record) {
        const signed = await solver.getDeal({ params: { id: record.id } });
        await openDeal(chain, { deal: record.deal, jobCreatorSig: signed.jobCreatorSignature!, providerSig: signed.providerSignature! });
      },
      async commit(record, stdout) {
        const manifest: ResultManifest = {
          module: record.module,
          inputs: record.inputs,
          exitCode: 0,
          files: { stdout: await store.putBytes(new TextEncoder().encode(stdout)) },
        };
        const resultCid = await store.putRecord(manifest);
        await commitResult(chain, { deal: record.deal, resultDigest: cidDigest(resultCid) });
        const result: Result = { dealId: record.id, provider: account.address, result: resultCid, exitCode: 0 };
        const signed = { result, signature: await signRecord(account, domain, "Result", result) };
        // The solver takes a result once it knows the deal opened (from the chain, or the provider's report).
        await eventually(() => solver.postResult({ params: { id: record.id }, body: signed }));
        return resultCid;
      },
    };
  };
  const providers = accounts.slice(1).map(provider);
  return {
    jc,
    jobCreator,
    journal,
    providers,
    providerOf: (address) => providers.find((p) => p.account.address.toLowerCase() === address.toLowerCase())!,
    mediator,
    solver,
    store,
    balances: () => Promise.all(accounts.map((a) => escrowBalance(deployer, { account: a.address }))),
    async stop() {
      await solverServer.close();
      await storeServer.close();
      await anvil.stop();
    },
  };
}

/** Poll `read` until it gives a value, or fail after `timeoutMs`. */
export async function eventually<T>(read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
