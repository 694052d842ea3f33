// A real network for the job creator's client: the local network (a block every second, so chain
// time moves on its own), a funded job creator, and providers the test drives by hand, step by
// step, so each can misbehave: sign or withhold its signature, open or not, commit a result.
// Money is read from the contracts. With `trustDeals`, the network names LilyTrustDeals and the
// providers sign, open and settle trust deals there, in the form dealRoute gives: as a real
// provider does, each picks the next nonce of its own sequence for a routed deal, signs the deal
// under it and posts the nonce with its signature.
import { keccak256, parseEther, toHex, type Address, type Hex, type LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  commitResult,
  escrowBalance,
  locateTrustDeal,
  onTrustDeals,
  openDeal,
  openTrustDeals,
  routedTrustDeal,
  settleTrustDeals,
  signDealFor,
  trustTermsOf,
  type LilyClient,
  type RoutedDeal,
} from "@lily/chain";
import { cidDigest, signRecord, type DealRecord, type ResourceOffer, type Result, type ResultManifest } from "@lily/protocol";
import { startLocalNetwork, type LocalNetwork } from "../../../test/support/localNetwork.ts";
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
  /**
   * The nonce this provider signs the deal under: undefined for a deal on LilyDeals; for a routed
   * one, `trustNonce` if given (a provider reusing a nonce), else the one it picked for this deal
   * before, else the next of its sequence.
   */
  nonceFor(record: DealRecord, trustNonce?: bigint): bigint | undefined;
  /** Sign in the deal's routed form (under nonceFor's nonce); `asDeal` signs the plain Deal whatever the route (a wrong form on a trust route). */
  signature(record: DealRecord, o?: { asDeal?: boolean; trustNonce?: bigint }): Promise<Hex>;
  /** Sign and post the signature, with the nonce for a routed deal. */
  sign(record: DealRecord, o?: { trustNonce?: bigint }): Promise<void>;
  open(record: DealRecord): Promise<void>;
  /** Settle a routed trust deal on LilyTrustDeals (declare it delivered, be paid) and post nothing. */
  settle(record: DealRecord): Promise<void>;
  /** Store a result with this stdout, commit its digest on chain (settle, for a routed trust deal) and post the signed Result. */
  commit(record: DealRecord, stdout: string): Promise<string>;
}

export interface Network extends LocalNetwork {
  jc: JobCreator;
  jobCreator: LocalAccount;
  journal: JobJournal;
  providers: Provider[];
  providerOf(address: Address): Provider;
  mediator: Address;
  /** Free escrow of the job creator and each provider, in that order. */
  balances(): Promise<bigint[]>;
  /** The same in the LilyTrustDeals escrow (a `trustDeals` network only). */
  trustBalances(): Promise<bigint[]>;
}

export async function startNetwork(submit: Partial<SubmitDefaults> = {}, { trustDeals = false }: { trustDeals?: boolean } = {}): Promise<Network> {
  const opts = { blockTimeSeconds: 1, trustDeals, solver: { signWindowSeconds: SIGN_WINDOW_SECONDS, sweepIntervalMs: 200 } };
  return startLocalNetwork("sdk", opts, (net) => withParties(net, submit));
}

async function withParties(net: LocalNetwork, submit: Partial<SubmitDefaults>): Promise<Network> {
  const { deployer, domain, solver, store } = net;
  const module = net.modules.cowsay;
  const jobCreator = privateKeyToAccount(key("job creator"));
  const accounts = [jobCreator, ...[1, 2, 3].map((i) => privateKeyToAccount(key(`provider ${i}`)))];
  await net.fund(accounts.map(net.clientFor), { eth: parseEther("1"), tokens: DEPOSIT, deposit: DEPOSIT });
  const mediator = privateKeyToAccount(key("mediator")).address;
  const journal = memoryJournal();
  const jc = createJobCreator(
    { ...net.endpoints, account: jobCreator, mediators: [mediator] },
    { journal, submit: { pollMs: 100, openGraceMs: 2_000, ...submit } },
  );

  let nonce = 0n;
  const provider = (account: LocalAccount): Provider => {
    const chain = net.clientFor(account);
    // As a provider's database does: a sequence from the time it started, one nonce per deal.
    let nextTrustNonce = BigInt(Math.floor(Date.now() / 1000)) << 20n;
    const picked = new Map<Hex, bigint>();
    const nonceFor = (record: DealRecord, trustNonce?: bigint): bigint | undefined => {
      if (!onTrustDeals(net.addresses, record.deal)) return undefined;
      if (trustNonce !== undefined) return trustNonce;
      const n = picked.get(record.id) ?? nextTrustNonce++;
      picked.set(record.id, n);
      return n;
    };
    const routed = (record: DealRecord, trustNonce?: bigint): RoutedDeal => ({
      dealId: record.id,
      deal: record.deal,
      trustNonce: nonceFor(record, trustNonce),
    });
    const onChain = (record: DealRecord): RoutedDeal => {
      if (record.trustNonce === undefined) throw new Error(`deal ${record.id} has no trustNonce: read it from the solver after signing`);
      return { dealId: record.id, deal: record.deal, trustNonce: record.trustNonce };
    };
    return {
      account,
      chain,
      nonceFor,
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
      signature: (record, o = {}) =>
        o.asDeal ? signRecord(account, domain, "Deal", record.deal) : signDealFor(account, net.addresses, routed(record, o.trustNonce)),
      async sign(record, o = {}) {
        const d = routed(record, o.trustNonce);
        const signature = await signDealFor(account, net.addresses, d);
        const body = { signer: account.address, signature, ...(d.trustNonce !== undefined && { trustNonce: d.trustNonce }) };
        await solver.signDeal({ params: { id: record.id }, body });
      },
      async open(record) {
        const signed = await solver.getDeal({ params: { id: record.id } });
        if (onTrustDeals(net.addresses, record.deal)) {
          // The provider sends, so its own signature is left out.
          const deal = routedTrustDeal(onChain(signed));
          await openTrustDeals(chain, { deals: [{ deal, jobCreatorSig: signed.jobCreatorSignature!, providerSig: "0x" }] });
          return;
        }
        await openDeal(chain, { deal: record.deal, jobCreatorSig: signed.jobCreatorSignature!, providerSig: signed.providerSignature! });
      },
      async settle(record) {
        const d = onChain(await solver.getDeal({ params: { id: record.id } }));
        const opened = await eventually(() => locateTrustDeal(chain, d));
        const terms = trustTermsOf(routedTrustDeal(d));
        const r = await settleTrustDeals(chain, { batchNo: opened.batchNo, leaves: opened.leaves, deals: [terms] });
        if (r.settled.length !== 1) throw new Error(`deal ${record.id} was not settled: ${JSON.stringify(r.skipped)}`);
      },
      async commit(record, stdout) {
        const manifest: ResultManifest = {
          module: record.module,
          inputs: record.inputs,
          exitCode: 0,
          files: { stdout: await store.putBytes(new TextEncoder().encode(stdout)) },
        };
        const resultCid = await store.putRecord(manifest);
        // A routed trust deal has no digest on chain: settling declares delivery, the signed Result names it.
        if (onTrustDeals(net.addresses, record.deal)) await this.settle(record);
        else await commitResult(chain, { deal: record.deal, resultDigest: cidDigest(resultCid) });
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
    ...net,
    jc,
    jobCreator,
    journal,
    providers,
    providerOf: (address) => providers.find((p) => p.account.address.toLowerCase() === address.toLowerCase())!,
    mediator,
    balances: () => Promise.all(accounts.map((a) => escrowBalance(deployer, { account: a.address }))),
    trustBalances: () => Promise.all(accounts.map((a) => escrowBalance(deployer, { account: a.address, escrow: net.addresses.trustDeals! }))),
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
