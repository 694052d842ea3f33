// A fresh Lily deployment on its own anvil, with a funded job creator and providers that have
// deposited into escrow, three mediators, a module creator, and helpers to sign deals, move the
// chain's clock and blocks, and compare escrow balances before and after.
import { encodeAbiParameters, keccak256, parseEther, toHex, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import assert from "node:assert/strict";
import {
  LilyError,
  NO_MEDIATORS,
  NO_REPLICAS,
  Policy,
  mediatorSetHash,
  replicaGroupHash,
  signRecord,
  type DealMessage,
  type ErrorCode,
  type PolicyName,
} from "@lily/protocol";
import {
  createLilyClient,
  deployLily,
  deposit,
  devAccounts,
  escrowBalance,
  fundAccount,
  startAnvil,
  tokenBalance,
  totalLocked,
  dealState,
  dealId,
  dealRecord,
  mediatorOf,
  groupMediatorOf,
  openDeal,
  openReplicas,
  type Anvil,
  type LilyAddresses,
  type LilyClient,
} from "../src/index.ts";

export const SUPPLY = parseEther("1000000");
export const FUNDED = parseEther("1000"); // LILY each party receives
export const DEPOSITED = parseEther("100"); // of which it deposits into escrow
export const ZERO_ADDRESS: Address = "0x0000000000000000000000000000000000000000";

export interface SignedDeal {
  deal: DealMessage;
  jobCreatorSig: Hex;
  providerSig: Hex;
}

export type DealTerms = Partial<DealMessage> & { deadlineIn?: number };

/** A replica group: its k deals, each signed by the job creator and its provider. */
export interface SignedGroup {
  replicas: SignedDeal[];
  deals: DealMessage[];
}

export interface Fixture {
  anvil: Anvil;
  addresses: LilyAddresses;
  deployer: LilyClient;
  jobCreator: LilyClient;
  /** The first of `providers`. */
  provider: LilyClient;
  /** Three funded providers with deposits, for replica groups. */
  providers: LilyClient[];
  /** A funded account that is party to no deal. */
  stranger: LilyClient;
  /** Three mediators (funded with gas only), sorted ascending by address. */
  mediators: LilyClient[];
  /** Their addresses, sorted: the set both parties accept. */
  mediatorSet: Address[];
  /** `mediatorSetHash(mediatorSet)`, as signed into deals. */
  mediatorHash: Hex;
  /** Receives royalties. */
  moduleCreator: LilyClient;
  /** Every account that ever held escrow. */
  depositors: Address[];
  clientFor(key: Hex, addresses?: LilyAddresses): LilyClient;
  /** The client of a known account. */
  clientOf(address: Address): LilyClient;
  /**
   * A new deal between the job creator and `terms.provider` (default: the provider), signed by
   * both. It can be opened until a second before its deadline unless `terms.openBy` says otherwise.
   */
  newDeal(terms?: DealTerms): Promise<SignedDeal>;
  /** A replicate(k) group for one job offer with `providers` (default: the first k), signed by all. */
  newGroup(providers: LilyClient[], terms?: DealTerms): Promise<SignedGroup>;
  /** Open a whole replica group (sent by a stranger). */
  openGroup(group: SignedGroup): Promise<Hex[]>;
  /** Terms for a policy with mediation: the shared mediator set, a mediation fee, a royalty. */
  policyTerms(policy: PolicyName, policyParam: bigint, extra?: DealTerms): DealTerms;
  sign(client: LilyClient, deal: DealMessage): Promise<Hex>;
  /** Move chain time forward and mine a block. */
  increaseTime(seconds: number): Promise<void>;
  /** Mine `n` empty blocks. */
  mine(n?: number): Promise<void>;
  blockNumber(): Promise<bigint>;
  /** Open a signed deal (sent by a stranger: the signatures are the authority). */
  open(signed: SignedDeal): Promise<Hex>;
  /** Mine until the mediator of a challenged deal is drawn, and return that mediator's client. */
  drawnMediator(deal: DealMessage | readonly DealMessage[]): Promise<LilyClient>;
  /** Every balance a deal can touch, to show a rejected call changed nothing. */
  snapshot(deal?: DealMessage): Promise<Record<string, unknown>>;
  /** Escrow balance of every depositor, and totalLocked. */
  balances(): Promise<Map<string, bigint>>;
  /** Assert escrow balances moved by exactly `expected` (address → delta; others unchanged). */
  assertMoved(before: Map<string, bigint>, expected: Record<string, bigint>): Promise<void>;
  /** token.balanceOf(deals) == Σ escrow balances + totalLocked. */
  assertSolvent(): Promise<void>;
  stop(): Promise<void>;
}

export interface FixtureOptions {
  mediationTimeoutSeconds?: number;
}

/** A deterministic extra test key, beyond anvil's funded dev accounts. */
export const testKey = (name: string): Hex => keccak256(toHex(`lily chain test key: ${name}`));

export async function startFixture(opts: FixtureOptions = {}): Promise<Fixture> {
  const anvil = await startAnvil();
  const addresses = await deployLily({
    rpcUrl: anvil.rpcUrl,
    deployerKey: devAccounts[0],
    supply: SUPPLY,
    mediationTimeoutSeconds: opts.mediationTimeoutSeconds,
    // The contract checks (authority tests) cover LilyTrustDeals too.
    trustDeals: true,
  });
  const clientFor = (key: Hex, at = addresses) => createLilyClient({ rpcUrl: anvil.rpcUrl, account: privateKeyToAccount(key), addresses: at });
  const [deployer, jobCreator, provider, stranger] = devAccounts.slice(0, 4).map((key) => clientFor(key));
  const providers = [provider, clientFor(devAccounts[4]), clientFor(testKey("provider 3"))];
  const mediators = [0, 1, 2]
    .map((i) => clientFor(testKey(`mediator ${i}`)))
    .sort((a, b) => (BigInt(a.account!.address) < BigInt(b.account!.address) ? -1 : 1));
  const moduleCreator = clientFor(testKey("module creator"));
  const mediatorSet = mediators.map((m) => m.account!.address);

  for (const party of [jobCreator, ...providers, stranger]) {
    await fundAccount(deployer, { to: party.account!.address, tokens: FUNDED, eth: party === providers[2] ? parseEther("10") : undefined });
    await deposit(party, { amount: DEPOSITED });
  }
  for (const party of [...mediators, moduleCreator]) await fundAccount(deployer, { to: party.account!.address, eth: parseEther("10") });

  const known = [deployer, jobCreator, ...providers, stranger, ...mediators, moduleCreator];
  const clientOf = (address: Address) => {
    const c = known.find((k) => k.account!.address.toLowerCase() === address.toLowerCase());
    if (!c) throw new Error(`no client for ${address}`);
    return c;
  };
  const sign = (client: LilyClient, deal: DealMessage) => signRecord(client.account!, client.domain, "Deal", deal);
  const rpc = (method: string, params: unknown[]) => deployer.publicClient.request({ method, params } as never);
  const depositors = [jobCreator, ...providers, stranger, ...mediators, moduleCreator].map((c) => c.account!.address);
  let nonce = 0;

  const balances = async () => {
    const out = new Map<string, bigint>();
    const values = await Promise.all(depositors.map((account) => escrowBalance(deployer, { account })));
    for (const [i, a] of depositors.entries()) out.set(a, values[i]!);
    out.set("totalLocked", await totalLocked(deployer));
    return out;
  };

  const f: Fixture = {
    anvil,
    addresses,
    deployer,
    jobCreator,
    provider,
    providers,
    stranger,
    mediators,
    mediatorSet,
    mediatorHash: mediatorSetHash(mediatorSet),
    moduleCreator,
    depositors,
    clientFor,
    clientOf,
    sign,
    async newDeal({ deadlineIn = 3600, ...terms } = {}) {
      const now = (await deployer.publicClient.getBlock()).timestamp;
      const deal: DealMessage = {
        jobCreator: jobCreator.account!.address,
        provider: provider.account!.address,
        jobOffer: keccak256(toHex(`job offer ${++nonce}`)),
        resourceOffer: keccak256(toHex(`resource offer ${nonce}`)),
        price: parseEther("3"),
        collateral: parseEther("5"),
        openBy: now + BigInt(deadlineIn) - 1n,
        deadline: now + BigInt(deadlineIn),
        policy: Policy.trust,
        policyParam: 0n,
        mediationFee: 0n,
        mediators: NO_MEDIATORS,
        replicas: NO_REPLICAS,
        moduleCreator: ZERO_ADDRESS,
        royaltyBps: 0,
        ...terms,
      };
      // A party with no key here (a contract wallet) gets a stand-in signature the test replaces.
      const signer = (address: Address) => known.find((k) => k.account!.address.toLowerCase() === address.toLowerCase()) ?? deployer;
      return { deal, jobCreatorSig: await sign(signer(deal.jobCreator), deal), providerSig: await sign(signer(deal.provider), deal) };
    },
    async newGroup(members, terms = {}) {
      const jobOffer = keccak256(toHex(`replicated job offer ${++nonce}`));
      const base = f.policyTerms("replicate", BigInt(members.length), {
        jobOffer,
        replicas: replicaGroupHash(members.map((m) => m.account!.address)),
        ...terms,
      });
      const replicas: SignedDeal[] = [];
      for (const m of members) {
        const signed = await f.newDeal({ ...base, provider: m.account!.address });
        replicas.push({ ...signed, providerSig: await sign(m, signed.deal) });
      }
      return { replicas, deals: replicas.map((r) => r.deal) };
    },
    async openGroup(group) {
      return (await openReplicas(stranger, { replicas: group.replicas })).dealIds;
    },
    policyTerms(policy, policyParam, extra = {}) {
      return {
        policy: Policy[policy],
        policyParam,
        mediationFee: parseEther("0.5"),
        mediators: mediatorSetHash(mediatorSet),
        moduleCreator: moduleCreator.account!.address,
        royaltyBps: 1000, // 10%
        ...extra,
      };
    },
    async increaseTime(seconds) {
      await rpc("evm_increaseTime", [toHex(seconds)]);
      await rpc("evm_mine", []);
    },
    async mine(n = 1) {
      await rpc("anvil_mine", [toHex(n)]);
    },
    blockNumber: () => deployer.publicClient.getBlockNumber({ cacheTime: 0 }),
    async open(signed) {
      return (await openDeal(stranger, signed)).dealId;
    },
    async drawnMediator(dealOrGroup) {
      const group = Array.isArray(dealOrGroup) ? (dealOrGroup as readonly DealMessage[]) : undefined;
      let drawBlock = 0n;
      for (const d of group ?? [dealOrGroup as DealMessage]) {
        const r = await dealRecord(deployer, { dealId: dealId(addresses, d) });
        if (r.state === "challenged") drawBlock = r.drawBlock;
      }
      const missing = drawBlock + 2n - (await f.blockNumber());
      if (missing > 0n) await f.mine(Number(missing));
      const drawn = group
        ? await groupMediatorOf(deployer, { deals: group, mediators: mediatorSet })
        : await mediatorOf(deployer, { deal: dealOrGroup as DealMessage, mediators: mediatorSet });
      return clientOf(drawn);
    },
    async snapshot(deal) {
      const parties: Record<string, Address> = {
        jobCreator: jobCreator.account!.address,
        provider: provider.account!.address,
        stranger: stranger.account!.address,
      };
      const out: Record<string, unknown> = {
        totalLocked: await totalLocked(deployer),
        dealsTokenBalance: await tokenBalance(deployer, { account: addresses.deals }),
      };
      for (const [name, account] of Object.entries(parties)) {
        out[`${name}.escrow`] = await escrowBalance(deployer, { account });
        out[`${name}.wallet`] = await tokenBalance(deployer, { account });
      }
      for (const [i, account] of [...mediatorSet, moduleCreator.account!.address].entries()) {
        out[`other${i}.escrow`] = await escrowBalance(deployer, { account });
      }
      if (deal) out.dealState = await dealState(deployer, { dealId: dealId(addresses, deal) });
      return out;
    },
    balances,
    async assertMoved(before, expected) {
      const after = await balances();
      const moved: Record<string, bigint> = {};
      for (const [k, v] of after) if (v !== before.get(k)) moved[k] = v - before.get(k)!;
      const want: Record<string, bigint> = {};
      for (const [k, v] of Object.entries(expected)) if (v !== 0n) want[k] = v;
      assert.deepEqual(moved, want);
      await f.assertSolvent();
    },
    async assertSolvent() {
      const b = await balances();
      let sum = 0n;
      for (const v of b.values()) sum += v;
      assert.equal(await tokenBalance(deployer, { account: addresses.deals }), sum);
    },
    stop: () => anvil.stop(),
  };
  return f;
}

/** Assert that `action` fails with a LilyError of `code`, decoded from the custom error `error`. */
export async function rejectsWith(action: Promise<unknown>, code: ErrorCode, error?: string): Promise<LilyError> {
  let caught: unknown;
  await assert.rejects(action, (e) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof LilyError, `expected a LilyError, got ${caught}`);
  assert.equal(caught.code, code, caught.message);
  if (error) assert.equal(caught.details.error, error, caught.message);
  return caught;
}

/**
 * The contract's mediator draw, computed independently: the seed is the low 56 bits of
 * keccak256(abi.encode(blockhash(seedBlock), key, "mediator")) (1 if zero), and the mediator
 * whose turn it is, of those that are not parties, is eligible[(seed + turn) % n].
 */
export function expectedMediator(seedHash: Hex, key: Hex, mediators: readonly Address[], parties: readonly Address[] = [], turn = 0n): Address {
  const word = keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }, { type: "string" }], [seedHash, key, "mediator"]));
  const seed = BigInt(word) & ((1n << 56n) - 1n) || 1n;
  const eligible = mediators.filter((m) => !parties.some((p) => p.toLowerCase() === m.toLowerCase()));
  return eligible[Number((seed + turn) % BigInt(eligible.length))]!;
}

/** The audit draw, computed independently: keccak256(abi.encode(blockhash(commitBlock + 2), dealId)) % 10^6. */
export function expectedAuditDraw(drawHash: Hex, id: Hex): bigint {
  return BigInt(keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }], [drawHash, id]))) % 1_000_000n;
}
