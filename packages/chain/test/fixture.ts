// A fresh Lily deployment on its own anvil, with a funded job creator and provider that have
// deposited into escrow, and helpers to sign deals and move the chain's clock.
import { keccak256, parseEther, toHex, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import assert from "node:assert/strict";
import { LilyError, Policy, signRecord, type DealMessage, type ErrorCode } from "@lily/protocol";
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
  type Anvil,
  type LilyAddresses,
  type LilyClient,
} from "../src/index.ts";

export const SUPPLY = parseEther("1000000");
export const FUNDED = parseEther("1000"); // LILY each party receives
export const DEPOSITED = parseEther("100"); // of which it deposits into escrow

export interface SignedDeal {
  deal: DealMessage;
  jobCreatorSig: Hex;
  providerSig: Hex;
}

export interface Fixture {
  anvil: Anvil;
  addresses: LilyAddresses;
  deployer: LilyClient;
  jobCreator: LilyClient;
  provider: LilyClient;
  /** A funded account that is party to no deal. */
  stranger: LilyClient;
  /** Every account that ever deposited into escrow. */
  depositors: Address[];
  clientFor(key: Hex, addresses?: LilyAddresses): LilyClient;
  /** A new deal between the job creator and the provider, signed by both. */
  newDeal(terms?: Partial<DealMessage> & { deadlineIn?: number }): Promise<SignedDeal>;
  sign(client: LilyClient, deal: DealMessage): Promise<Hex>;
  /** Move chain time forward and mine a block. */
  increaseTime(seconds: number): Promise<void>;
  /** Every balance a deal can touch, to show a rejected call changed nothing. */
  snapshot(deal?: DealMessage): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function startFixture(): Promise<Fixture> {
  const anvil = await startAnvil();
  const addresses = await deployLily({ rpcUrl: anvil.rpcUrl, deployerKey: devAccounts[0], supply: SUPPLY });
  const clientFor = (key: Hex, at = addresses) => createLilyClient({ rpcUrl: anvil.rpcUrl, account: privateKeyToAccount(key), addresses: at });
  const [deployer, jobCreator, provider, stranger] = devAccounts.slice(0, 4).map((key) => clientFor(key));
  for (const party of [jobCreator, provider, stranger]) {
    await fundAccount(deployer, { to: party.account!.address, tokens: FUNDED });
    await deposit(party, { amount: DEPOSITED });
  }

  const sign = (client: LilyClient, deal: DealMessage) => signRecord(client.account!, client.domain, "Deal", deal);
  const rpc = (method: string, params: unknown[]) => deployer.publicClient.request({ method, params } as never);
  let nonce = 0;

  return {
    anvil,
    addresses,
    deployer,
    jobCreator,
    provider,
    stranger,
    depositors: [jobCreator, provider, stranger].map((c) => c.account!.address),
    clientFor,
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
        deadline: now + BigInt(deadlineIn),
        policy: Policy.trust,
        policyParam: 0n,
        ...terms,
      };
      return { deal, jobCreatorSig: await sign(jobCreator, deal), providerSig: await sign(provider, deal) };
    },
    async increaseTime(seconds) {
      await rpc("evm_increaseTime", [toHex(seconds)]);
      await rpc("evm_mine", []);
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
      if (deal) out.dealState = await dealState(deployer, { dealId: dealId(addresses, deal) });
      return out;
    },
    stop: () => anvil.stop(),
  };
}

/** Assert that `action` fails with a LilyError of `code`, decoded from the custom error `error`. */
export async function rejectsWith(action: Promise<unknown>, code: ErrorCode, error?: string): Promise<LilyError> {
  let caught: unknown;
  await assert.rejects(action, (e) => ((caught = e), true));
  assert.ok(caught instanceof LilyError, `expected a LilyError, got ${caught}`);
  assert.equal(caught.code, code, caught.message);
  if (error) assert.equal(caught.details.error, error, caught.message);
  return caught;
}
