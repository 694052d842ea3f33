// A real network for the mediator to work in: anvil with Lily deployed, a store with the cowsay
// module published, a solver, a funded job creator, two providers and two mediators (one both
// parties accept, one nobody does), and helpers to make deals, results and disputes.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, parseEther, toHex, type Address, type Hex, type LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  createLilyClient,
  deployLily,
  deposit,
  devAccounts,
  fundAccount,
  startAnvil,
  type Anvil,
  type LilyAddresses,
  type LilyClient,
} from "@lily/chain";
import { createClient, solverRoutes, type Client, type SolverRoutes } from "@lily/api";
import { createLogger, type Logger } from "@lily/node-kit";
import { startStore, defaultStoreOptions, StoreClient } from "@lily/store";
import { startSolver, defaultSolverOptions } from "@lily/solver";
import { loadCatalog } from "@lily/modules";
import { createWasmExecutor, jobTaskSpec, prepareJobDirs, removeJobDirs } from "@lily/executor";
import {
  cidDigest,
  cidForRecord,
  hashRecord,
  mediatorSetHash,
  parse,
  ModuleManifest,
  signRecord,
  validateInputs,
  type DealMessage,
  type JobOffer,
  type ResourceOffer,
  type ResultManifest,
} from "@lily/protocol";
import { defaultMediatorOptions, type MediatorOptions } from "../src/options.ts";

export const PRICE = parseEther("3");
export const COLLATERAL = parseEther("5");
export const FEE = parseEther("1");

/** A deterministic test key, distinct from anvil's dev accounts. */
export const testKey = (name: string): Hex => keccak256(toHex(`lily mediator test key: ${name}`));

export interface Network {
  anvil: Anvil;
  addresses: LilyAddresses;
  deployer: LilyClient;
  jobCreator: LilyClient;
  providers: LilyClient[];
  /** The mediator both parties accept. */
  mediator: LilyClient;
  /** A mediator nobody accepted. */
  outsider: LilyClient;
  clientFor(key: Hex): LilyClient;
  store: StoreClient;
  solver: Client<SolverRoutes>;
  solverUrl: string;
  module: string;
  logger: Logger;
  mediatorOptions(account: LocalAccount, name: string): MediatorOptions;
  /** A signed job offer for cowsay, posted to the solver; the mediator list defaults to [mediator]. */
  postJobOffer(policy: number, policyParam: bigint, message: string, mediators?: Address[]): Promise<{ offer: JobOffer; id: Hex }>;
  /** A signed resource offer by `provider`, posted to the solver if `post`. */
  resourceOffer(provider: LilyClient, post: boolean, mediators?: Address[]): Promise<{ offer: ResourceOffer; id: Hex }>;
  /** Deal terms between the job creator and `provider` for a job offer, signed by both. */
  signedDeal(terms: DealMessage): Promise<{ deal: DealMessage; jobCreatorSig: Hex; providerSig: Hex }>;
  /** The result an honest provider stores for `dealId`: the module really run. */
  honestResult(dealId: Hex, inputs: string): Promise<string>;
  /** A result with a made-up stdout. */
  wrongResult(dealId: Hex, inputs: string): Promise<string>;
  mine(blocks: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startNetwork(): Promise<Network> {
  const dir = mkdtempSync(join(tmpdir(), "lily-mediator-net-"));
  const logger = createLogger({ module: "test", level: (process.env.LILY_TEST_LOG as "info" | undefined) ?? "error" });
  const anvil = await startAnvil();
  const addresses = await deployLily({ rpcUrl: anvil.rpcUrl, deployerKey: devAccounts[0]!, supply: parseEther("1000000"), mediationTimeoutSeconds: 600 });
  const clientFor = (key: Hex) => createLilyClient({ rpcUrl: anvil.rpcUrl, account: privateKeyToAccount(key), addresses });
  const [deployer, jobCreator, p1, p2, mediator] = devAccounts.map(clientFor) as [LilyClient, LilyClient, LilyClient, LilyClient, LilyClient];
  const outsider = clientFor(testKey("outsider"));
  await fundAccount(deployer, { to: outsider.account!.address, eth: parseEther("1") });
  for (const party of [jobCreator, p1, p2]) {
    await fundAccount(deployer, { to: party.account!.address, tokens: parseEther("1000") });
    await deposit(party, { amount: parseEther("100") });
  }

  const storeServer = await startStore({ ...defaultStoreOptions, dataDir: join(dir, "blocks") }, { logger });
  const store = new StoreClient(storeServer.url);
  const cowsay = loadCatalog().find((e) => e.ref === "cowsay@1.0.0")!;
  const module = await store.putRecordBytes(cowsay.manifestBytes);
  await store.putBytes(cowsay.wasmBytes);

  const domain = deployer.domain;
  const solverServer = await startSolver({ ...defaultSolverOptions, dbPath: join(dir, "solver.db"), domain, token: addresses.token }, { logger });
  const solver = createClient(solverServer.url, solverRoutes);
  const accepted: Address[] = [mediator.account!.address];
  const inAnHour = () => BigInt(Math.floor(Date.now() / 1000) + 3600);
  let nonce = 0n;

  async function storeResult(dealId: Hex, inputs: string, outputs: Record<string, Uint8Array>, exitCode: number): Promise<string> {
    const files: Record<string, string> = {};
    for (const [name, bytes] of Object.entries(outputs)) files[name] = await store.putBytes(bytes);
    const result: ResultManifest = { module, inputs, exitCode, files };
    return store.putRecord(result);
  }

  return {
    anvil,
    addresses,
    deployer,
    jobCreator,
    providers: [p1, p2],
    mediator,
    outsider,
    clientFor,
    store,
    solver,
    solverUrl: solverServer.url,
    module,
    logger,
    mediatorOptions: (account, name) => ({
      ...defaultMediatorOptions,
      account,
      dbPath: join(dir, `${name}.db`),
      workDir: join(dir, `${name}-work`),
      rpcUrl: anvil.rpcUrl,
      chainId: addresses.chainId,
      token: addresses.token,
      deals: addresses.deals,
      deployBlock: addresses.deployBlock,
      solverUrl: solverServer.url,
      storeUrl: storeServer.url,
      pollMs: 100,
    }),
    async postJobOffer(policy, policyParam, message, mediators = accepted) {
      const inputs = await store.putRecord({ message });
      const offer: JobOffer = {
        jobCreator: jobCreator.account!.address, module, inputs, cpu: 1, memoryMb: 64, gpu: 0, vramMb: 0, maxPrice: PRICE,
        policy, policyParam, mediationFee: FEE, mediators, moduleCreator: "0x0000000000000000000000000000000000000000", royaltyBps: 0,
        timeoutSeconds: 600n, expiresAt: inAnHour(), nonce: ++nonce,
      };
      const signature = await signRecord(jobCreator.account!, domain, "JobOffer", offer);
      const record = await solver.postJobOffer({ body: { offer, signature } });
      return { offer, id: record.id };
    },
    async resourceOffer(provider, post, mediators = accepted) {
      const offer: ResourceOffer = {
        provider: provider.account!.address, cpu: 64, memoryMb: 65536, gpu: 0, vramMb: 0, price: PRICE, collateral: COLLATERAL,
        modules: [module], mediators, expiresAt: inAnHour(), nonce: ++nonce,
      };
      const signature = await signRecord(provider.account!, domain, "ResourceOffer", offer);
      if (post) await solver.postResourceOffer({ body: { offer, signature } });
      return { offer, id: hashRecord(domain, "ResourceOffer", offer) };
    },
    async signedDeal(deal) {
      const provider = [p1, p2].find((p) => p.account!.address === deal.provider)!;
      return {
        deal,
        jobCreatorSig: await signRecord(jobCreator.account!, domain, "Deal", deal),
        providerSig: await signRecord(provider.account!, domain, "Deal", deal),
      };
    },
    async honestResult(dealId, inputsCid) {
      const manifest = parse(ModuleManifest, await store.getRecord(module), "module");
      const inputs = validateInputs(manifest, await store.getRecord(inputsCid));
      const dirs = await prepareJobDirs(join(dir, "honest", dealId), manifest, inputs, (c) => store.getBytes(c));
      const executor = createWasmExecutor();
      const exit = await executor.wait(await executor.start(jobTaskSpec(manifest, cowsay.wasmBytes, dirs, 30_000)));
      const files = await store.putDirectory(dirs.outputsDir);
      removeJobDirs(dirs);
      return store.putRecord({ module, inputs: inputsCid, exitCode: exit.exitCode, files } satisfies ResultManifest);
    },
    wrongResult: (dealId, inputs) => storeResult(dealId, inputs, { stdout: new TextEncoder().encode(" _____\n< moo? >\n"), stderr: new Uint8Array() }, 0),
    async mine(blocks) {
      for (let i = 0; i < blocks; i++) await deployer.publicClient.request({ method: "evm_mine", params: [] } as never);
    },
    async stop() {
      await solverServer.close();
      await storeServer.close();
      await anvil.stop();
    },
  };
}


