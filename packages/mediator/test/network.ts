// A real network for the mediator to work in: the local network (no block time: the tests move
// the chain's blocks and clock themselves), a funded job creator, two providers and two mediators
// (one both parties accept, one nobody does), and helpers to make deals, results and disputes, to
// move the chain, and to check every balance to the wei. Every mediator started on it stops with it.
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseEther, toHex, keccak256, type Address, type Hex, type LocalAccount } from "viem";
import { devAccounts, escrowBalance, lilyTokenAbi, tokenBalance, totalLocked, type LilyClient } from "@lily/chain";
import { loadCatalog } from "@lily/modules";
import {
  JOB_REFUSED_EXIT_CODE,
  createExecutorSet,
  createWasmExecutor,
  failureOutputs,
  jobTaskSpec,
  prepareJobDirs,
  removeJobDirs,
  type JobFailure,
} from "@lily/executor";
import {
  deriveDeal,
  hashRecord,
  parse,
  ModuleManifest,
  signRecord,
  validateInputs,
  type DealMessage,
  type JobOffer,
  type ResourceOffer,
  type ResultManifest,
} from "@lily/protocol";
import { SUPPLY, startLocalNetwork, type LocalNetwork } from "../../../test/support/localNetwork.ts";
import { defaultMediatorOptions, type MediatorOptions } from "../src/options.ts";
import { createMediator, type MediatorDeps, type RunningMediator } from "../src/mediator.ts";

export const PRICE = parseEther("3");
export const COLLATERAL = parseEther("5");
export const FEE = parseEther("1");
/** The deployment's mediation timeout; each mediator's turn is half of it. */
export const MEDIATION_TIMEOUT = 600;
export const MEDIATOR_TURN = MEDIATION_TIMEOUT / 2;

/** A deterministic test key, distinct from anvil's dev accounts. */
export const testKey = (name: string): Hex => keccak256(toHex(`lily mediator test key: ${name}`));

export const addr = (c: LilyClient): Address => c.account!.address;

/** Escrow and wallet balance of every named party, what is locked, what the contract holds, the supply. */
export type Ledger = Record<string, bigint>;

export interface Network extends LocalNetwork {
  jobCreator: LilyClient;
  providers: LilyClient[];
  /** The mediator both parties accept. */
  mediator: LilyClient;
  /** A mediator nobody accepted. */
  outsider: LilyClient;
  /** A new account with gas (and a name in the ledger), to mediate. */
  newMediator(name: string): Promise<LilyClient>;
  /** The cowsay module's manifest CID. */
  module: string;
  mediatorOptions(account: LocalAccount, name: string): MediatorOptions;
  /** A mediator unit on this network, with the real parts unless `parts` replaces some; the network closes it when it stops (closing it twice is harmless). */
  startMediator(client: LilyClient, name: string, parts?: Partial<MediatorDeps>): Promise<RunningMediator>;
  /** How many transactions `client` has sent. */
  nonceOf(client: LilyClient): Promise<number>;
  /** A signed job offer for cowsay, posted to the solver; the mediator list defaults to [mediator]. */
  postJobOffer(policy: number, policyParam: bigint, message: string, opts?: { mediators?: Address[]; inputs?: string }): Promise<{ offer: JobOffer; id: Hex }>;
  /** A signed resource offer by `provider`, posted to the solver if `post`. */
  resourceOffer(provider: LilyClient, post: boolean, mediators?: Address[]): Promise<{ offer: ResourceOffer; id: Hex }>;
  /** The deal two offers make (protocol's deriveDeal), openable for ten minutes; `override` changes terms (then the signers sign those). */
  deriveDeal(
    job: { offer: JobOffer; id: Hex },
    resource: { offer: ResourceOffer; id: Hex },
    opts?: { group?: Address[]; override?: Partial<DealMessage> },
  ): Promise<DealMessage>;
  /** Deal terms between the job creator and `provider` for a job offer, signed by both. */
  signedDeal(terms: DealMessage): Promise<{ deal: DealMessage; jobCreatorSig: Hex; providerSig: Hex }>;
  /** The result an honest provider stores for the job: the module really run. */
  honestResult(dealId: Hex, inputs: string): Promise<string>;
  /** A result with a made-up stdout. */
  wrongResult(dealId: Hex, inputs: string): Promise<string>;
  /** The committed failure an honest provider stores when the job creator's inputs are at fault. */
  failedResult(inputs: string, failure: JobFailure): Promise<string>;
  /** Mine `blocks` blocks at once (a fast chain: many blocks, little time). */
  mine(blocks: number): Promise<void>;
  /** Move the chain's clock forward and mine a block. */
  increaseTime(seconds: number): Promise<void>;
  ledger(): Promise<Ledger>;
  /** Escrow moved by exactly `moved` (party name -> delta, or `totalLocked`); nothing else changed; conservation holds. */
  assertEscrowMoved(before: Ledger, moved: Record<string, bigint>): Promise<void>;
}

export function startNetwork(): Promise<Network> {
  return startLocalNetwork("mediator", { mediationTimeoutSeconds: MEDIATION_TIMEOUT }, withParties);
}

async function withParties(net: LocalNetwork): Promise<Network> {
  const { addresses, clientFor, deployer, dir, domain, endpoints, logger, solver, store } = net;
  const [jobCreator, p1, p2, mediator] = devAccounts.slice(1, 5).map(clientFor) as [LilyClient, LilyClient, LilyClient, LilyClient];
  const outsider = clientFor(testKey("outsider"));
  await net.fund([outsider], { eth: parseEther("1") });
  await net.fund([jobCreator, p1, p2], { tokens: parseEther("1000"), deposit: parseEther("100") });
  const named: Record<string, Address> = {
    deployer: addr(deployer),
    jobCreator: addr(jobCreator),
    provider: addr(p1),
    provider2: addr(p2),
    mediator: addr(mediator),
    outsider: addr(outsider),
  };
  const module = net.modules.cowsay;
  const cowsay = loadCatalog().find((e) => e.ref === "cowsay@1.0.0")!;

  const accepted: Address[] = [mediator.account!.address];
  const inAnHour = () => BigInt(Math.floor(Date.now() / 1000) + 3600);
  const rpc = (method: string, params: unknown[]) => deployer.publicClient.request({ method, params } as never);
  let nonce = 0n;

  async function storeResult(inputs: string, outputs: Map<string, Uint8Array>, exitCode: number): Promise<string> {
    const files: Record<string, string> = {};
    for (const [name, bytes] of outputs) files[name] = await store.putBytes(bytes);
    const result: ResultManifest = { module, inputs, exitCode, files };
    return store.putRecord(result);
  }

  const ledger = async (): Promise<Ledger> => {
    const out: Ledger = {};
    for (const [name, account] of Object.entries(named)) {
      out[`escrow:${name}`] = await escrowBalance(deployer, { account });
      out[`wallet:${name}`] = await tokenBalance(deployer, { account });
    }
    out.totalLocked = await totalLocked(deployer);
    out.dealsHolds = await tokenBalance(deployer, { account: addresses.deals });
    out.supply = await deployer.publicClient.readContract({ address: addresses.token, abi: lilyTokenAbi, functionName: "totalSupply" });
    return out;
  };

  const mediatorOptions = (account: LocalAccount, name: string): MediatorOptions => ({
    ...defaultMediatorOptions,
    ...endpoints,
    account,
    dbPath: join(dir, `${name}.db`),
    workDir: join(dir, `${name}-work`),
    pollMs: 100,
    undecidedRetryMs: 200,
  });

  return {
    ...net,
    jobCreator,
    providers: [p1, p2],
    mediator,
    outsider,
    async newMediator(name) {
      const client = clientFor(testKey(name));
      await net.fund([client], { eth: parseEther("1") });
      named[name] = addr(client);
      return client;
    },
    module,
    mediatorOptions,
    async startMediator(client, name, parts = {}) {
      const unit = await createMediator(mediatorOptions(client.account! as LocalAccount, name), {
        logger,
        chain: client,
        solver,
        store,
        executor: createWasmExecutor(),
        clock: { now: () => Date.now() },
        ...parts,
      });
      let closing: Promise<void> | undefined;
      const close = () => (closing ??= unit.close());
      net.onStop(close);
      return { ...unit, close };
    },
    nonceOf: (client) => deployer.publicClient.getTransactionCount({ address: addr(client) }),
    async postJobOffer(policy, policyParam, message, { mediators = accepted, inputs } = {}) {
      const offer: JobOffer = {
        jobCreator: jobCreator.account!.address,
        module,
        inputs: inputs ?? (await store.putRecord({ message })),
        cpu: 1,
        memoryMb: 64,
        gpu: 0,
        vramMb: 0,
        maxPrice: PRICE,
        policy,
        policyParam,
        mediationFee: FEE,
        mediators,
        moduleCreator: "0x0000000000000000000000000000000000000000",
        royaltyBps: 0,
        timeoutSeconds: 600n,
        expiresAt: inAnHour(),
        nonce: ++nonce,
      };
      const signature = await signRecord(jobCreator.account!, domain, "JobOffer", offer);
      const record = await solver.postJobOffer({ body: { offer, signature } });
      return { offer, id: record.id };
    },
    async resourceOffer(provider, post, mediators = accepted) {
      const offer: ResourceOffer = {
        provider: provider.account!.address,
        cpu: 64,
        memoryMb: 65536,
        gpu: 0,
        vramMb: 0,
        price: PRICE,
        collateral: COLLATERAL,
        modules: [module],
        mediators,
        expiresAt: inAnHour(),
        nonce: ++nonce,
      };
      const signature = await signRecord(provider.account!, domain, "ResourceOffer", offer);
      if (post) await solver.postResourceOffer({ body: { offer, signature } });
      return { offer, id: hashRecord(domain, "ResourceOffer", offer) };
    },
    async deriveDeal(job, resource, { group, override = {} } = {}) {
      const now = (await deployer.publicClient.getBlock()).timestamp;
      return { ...deriveDeal(job, resource, { openBy: now + 600n, ...(group && { group }) }), ...override };
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
      const executor = createExecutorSet({ wasm: createWasmExecutor() });
      const exit = await executor.wait(await executor.start(jobTaskSpec(manifest, { kind: "wasm", wasm: cowsay.wasmBytes }, dirs, 30_000)));
      const files = await store.putDirectory(dirs.outputsDir);
      await removeJobDirs(dirs);
      return store.putRecord({ module, inputs: inputsCid, exitCode: exit.exitCode, files } satisfies ResultManifest);
    },
    wrongResult: (_dealId, inputs) =>
      storeResult(
        inputs,
        new Map([
          ["stdout", new TextEncoder().encode(" _____\n< moo? >\n")],
          ["stderr", new Uint8Array()],
        ]),
        0,
      ),
    failedResult: (inputs, failure) => storeResult(inputs, failureOutputs(failure), JOB_REFUSED_EXIT_CODE),
    async mine(blocks) {
      await rpc("anvil_mine", [toHex(blocks)]);
    },
    async increaseTime(seconds) {
      await rpc("evm_increaseTime", [toHex(seconds)]);
      await rpc("evm_mine", []);
    },
    ledger,
    async assertEscrowMoved(before, moved) {
      const after = await ledger();
      const sum = (prefix: string) =>
        Object.entries(after)
          .filter(([k]) => k.startsWith(prefix))
          .reduce((s, [, v]) => s + v, 0n);
      assert.equal(after.dealsHolds, sum("escrow:") + after.totalLocked!, "token.balanceOf(deals) == Σ escrow + totalLocked");
      assert.equal(after.supply, SUPPLY, "the supply is the one minted at deployment");
      assert.equal(sum("wallet:") + after.dealsHolds!, after.supply, "every token is in a wallet or in the deals contract");
      const diff: Record<string, bigint> = {};
      for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0n)) diff[k] = v - (before[k] ?? 0n);
      const want: Record<string, bigint> = {};
      for (const [k, v] of Object.entries(moved)) if (v !== 0n) want[k === "totalLocked" ? k : `escrow:${k}`] = v;
      assert.deepEqual(diff, want);
    },
  };
}
