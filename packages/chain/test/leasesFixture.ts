// Inference leases on a fresh Lily deployment (the deals fixture's anvil and parties): the job
// creator is the paying gateway, the first provider serves, the first mediator audits, the module
// creator made the model. Each of them holds escrow in LilyLeases (separate from LilyDeals').
// Helpers sign leases, vouchers and receipts, move the clock past a lease's windows, and keep a
// ledger of the LilyLeases escrow to check conservation after every step.
import assert from "node:assert/strict";
import { keccak256, parseEther, toHex, type Address, type Hex } from "viem";
import { signRecord, type Domain, type LeaseMessage, type ReceiptMessage } from "@lily/protocol";
import {
  deposit,
  escrowBalance,
  fundAccount,
  leaseDomain,
  leaseId,
  leaseRecord,
  leasesAddress,
  lilyLeasesAbi,
  openLease,
  tokenBalance,
  totalLocked,
  type LeaseRecordReturnType,
  type LilyClient,
} from "../src/index.ts";
import { ZERO_ADDRESS, startFixture, type Fixture, type FixtureOptions } from "./fixture.ts";

/** LILY each lease party deposits into LilyLeases. */
export const LEASE_DEPOSIT = parseEther("100");

export interface SignedLease {
  lease: LeaseMessage;
  payerSignature: Hex;
  providerSignature: Hex;
  id: Hex;
}

export type LeaseTerms = Partial<LeaseMessage> & { expiresIn?: number };

export interface LeaseFixture {
  f: Fixture;
  leases: Address;
  domain: Domain;
  payer: LilyClient;
  provider: LilyClient;
  /** A second provider with a lease deposit. */
  provider2: LilyClient;
  mediator: LilyClient;
  /** Another mediator, named by no lease unless a test says so. */
  mediator2: LilyClient;
  modelCreator: LilyClient;
  stranger: LilyClient;
  claimWindow: bigint;
  auditWindow: bigint;
  /** Ledger keys by name. */
  names: Record<string, Address>;
  /** A lease between the payer and the provider, signed by both, naming the mediator; 10 LILY budget, 5 collateral, 10% royalty. */
  newLease(terms?: LeaseTerms): Promise<SignedLease>;
  /** Open it (sent by a stranger: the signatures are the authority). */
  open(signed: SignedLease): Promise<Hex>;
  /** A voucher signature over {lease, amount, requests}, by the payer unless `signer` is given. */
  voucher(lease: LeaseMessage, amount: bigint, requests: bigint, signer?: LilyClient): Promise<Hex>;
  /** A receipt for answer `seq` of `lease`, signed by the provider unless `signer` is given. */
  receipt(
    lease: LeaseMessage,
    seq: bigint,
    o?: { signer?: LilyClient; receipt?: Partial<ReceiptMessage> },
  ): Promise<{ receipt: ReceiptMessage; providerSignature: Hex }>;
  record(lease: LeaseMessage): Promise<LeaseRecordReturnType>;
  /** Move chain time to `lease.expiresAt + offset` (never backwards) and mine. */
  timeTo(lease: LeaseMessage, offset: bigint): Promise<void>;
  /** LilyLeases escrow by name, each party's wallet (`wallet:<name>`), and the contract's `totalLocked` and `holds` (its token balance). */
  ledger(): Promise<Record<string, bigint>>;
  /** holds == Σ escrow + totalLocked, after whatever just happened. */
  assertConserved(): Promise<Record<string, bigint>>;
  /** LilyLeases escrow moved by exactly `moved` (name → delta, `totalLocked` too), nothing else (no wallet); conserved. */
  assertMoved(before: Record<string, bigint>, moved: Record<string, bigint>): Promise<void>;
}

export async function startLeaseFixture(opts: FixtureOptions = {}): Promise<LeaseFixture> {
  const f = await startFixture(opts);
  const leases = leasesAddress(f.addresses);
  const domain = leaseDomain(f.addresses);
  const [payer, provider, provider2, stranger] = [f.jobCreator, f.providers[0]!, f.providers[1]!, f.stranger];
  const [mediator, mediator2] = [f.mediators[0]!, f.mediators[1]!];
  const modelCreator = f.moduleCreator;
  for (const party of [payer, provider, provider2, stranger]) await deposit(party, { amount: LEASE_DEPOSIT, escrow: leases });
  // The mediators and the model creator only receive; they hold 1 wei so a credit is not a first write.
  for (const party of [mediator, mediator2, modelCreator]) {
    await fundAccount(f.deployer, { to: party.account!.address, tokens: 1n });
    await deposit(party, { amount: 1n, escrow: leases });
  }
  const read = (functionName: "CLAIM_WINDOW" | "AUDIT_WINDOW") => f.deployer.publicClient.readContract({ address: leases, abi: lilyLeasesAbi, functionName });
  const [claimWindow, auditWindow] = [await read("CLAIM_WINDOW"), await read("AUDIT_WINDOW")];
  const names: Record<string, Address> = Object.fromEntries(
    Object.entries({ payer, provider, provider2, stranger, mediator, mediator2, modelCreator }).map(([k, c]) => [k, c.account!.address]),
  );
  const rpc = (method: string, params: unknown[]) => f.deployer.publicClient.request({ method, params } as never);
  let nonce = 0n;

  const ledger = async () => {
    const out: Record<string, bigint> = {};
    for (const [name, account] of Object.entries(names)) {
      out[name] = await escrowBalance(f.deployer, { account, escrow: leases });
      out[`wallet:${name}`] = await tokenBalance(f.deployer, { account });
    }
    out.totalLocked = await totalLocked(f.deployer, { escrow: leases });
    out.holds = await tokenBalance(f.deployer, { account: leases });
    return out;
  };
  const assertConserved = async () => {
    const l = await ledger();
    const free = Object.keys(names).reduce((s, k) => s + l[k]!, 0n);
    assert.equal(l.holds, free + l.totalLocked!, "token.balanceOf(leases) == Σ escrow + totalLocked");
    return l;
  };

  const lf: LeaseFixture = {
    f,
    leases,
    domain,
    payer,
    provider,
    provider2,
    mediator,
    mediator2,
    modelCreator,
    stranger,
    claimWindow,
    auditWindow,
    names,
    async newLease({ expiresIn = 3600, ...terms } = {}) {
      const now = (await f.deployer.publicClient.getBlock({ blockTag: "latest" })).timestamp;
      const lease: LeaseMessage = {
        payer: payer.account!.address,
        provider: provider.account!.address,
        model: "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
        budget: parseEther("10"),
        collateral: parseEther("5"),
        inputPricePer1k: parseEther("0.001"),
        outputPricePer1k: parseEther("0.002"),
        openBy: now + 60n,
        expiresAt: now + BigInt(expiresIn),
        mediator: mediator.account!.address,
        mediationFee: parseEther("1"),
        auditBps: 100,
        moduleCreator: modelCreator.account!.address,
        royaltyBps: 1000,
        nonce: ++nonce,
        ...terms,
      };
      const known = [payer, provider, provider2, stranger, mediator, mediator2, modelCreator];
      const signer = (a: Address) => known.find((k) => k.account!.address.toLowerCase() === a.toLowerCase()) ?? f.deployer;
      return {
        lease,
        payerSignature: await signRecord(signer(lease.payer).account!, domain, "Lease", lease),
        providerSignature: await signRecord(signer(lease.provider).account!, domain, "Lease", lease),
        id: leaseId(f.addresses, lease),
      };
    },
    async open(signed) {
      return (await openLease(stranger, signed)).leaseId;
    },
    voucher: (lease, amount, requests, signer = payer) =>
      signRecord(signer.account!, domain, "Voucher", { lease: leaseId(f.addresses, lease), amount, requests }),
    async receipt(lease, seq, { signer = provider, receipt = {} } = {}) {
      const r: ReceiptMessage = {
        lease: leaseId(f.addresses, lease),
        provider: lease.provider,
        seq,
        request: keccak256(toHex(`request ${seq}`)),
        response: keccak256(toHex(`response ${seq}`)),
        inputTokens: 12,
        outputTokens: 34,
        ...receipt,
      };
      return { receipt: r, providerSignature: await signRecord(signer.account!, domain, "Receipt", r) };
    },
    record: (lease) => leaseRecord(f.deployer, { leaseId: leaseId(f.addresses, lease) }),
    async timeTo(lease, offset) {
      const now = (await f.deployer.publicClient.getBlock({ blockTag: "latest" })).timestamp;
      const target = lease.expiresAt + offset;
      if (target > now) await rpc("evm_setNextBlockTimestamp", [toHex(target)]);
      await rpc("evm_mine", []);
    },
    ledger,
    assertConserved,
    async assertMoved(before, moved) {
      const after = await assertConserved();
      const diff: Record<string, bigint> = {};
      for (const [k, v] of Object.entries(after)) if (v !== before[k]) diff[k] = v - before[k]!;
      const want: Record<string, bigint> = {};
      for (const [k, v] of Object.entries(moved)) if (v !== 0n) want[k] = v;
      assert.deepEqual(diff, want);
    },
  };
  return lf;
}

export { ZERO_ADDRESS };
