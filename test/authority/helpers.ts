// Shared by the authority-map tests (one file per role, see README.md): a ledger of every token
// the fixture's parties hold, the assertions that say "the honest parties lost nothing" or "moved
// exactly what the rules say", and small tools to look at the contracts themselves (their ABIs,
// their runtime bytecode, their Solidity sources) and at a contract that calls on someone's behalf.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { getAddress, parseEther, type Abi, type AbiFunction, type Address, type Hex } from "viem";
import {
  DealRecord,
  JobOfferRecord,
  ResourceOfferRecord,
  deriveDeal,
  hashRecord,
  signRecord,
  type DealMessage,
  type JobOffer,
  type ResourceOffer,
} from "@lily/protocol";
import { createLogger } from "@lily/node-kit";
import { NO_RESOURCES, checkProposal } from "@lily/provider";
import { loadCatalog } from "@lily/modules";
import { StoreClient, defaultStoreOptions, startStore, type BlockStore } from "@lily/store";
import {
  dealId,
  escrowBalance,
  lilyDealsAbi,
  lilyErrorsAbi,
  lilyTokenAbi,
  tokenBalance,
  totalLocked,
  withLilyErrors,
  type LilyClient,
} from "../../packages/chain/src/index.ts";
import { compileSolidity } from "../../packages/chain/scripts/solc.ts";
import { SUPPLY, type Fixture } from "../../packages/chain/test/fixture.ts";
import { PLAIN_JOB_TERMS } from "../support/jobOffers.ts";
import { tempDir } from "../support/tempDir.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export const addr = (c: LilyClient): Address => c.account!.address;

/** Every account of the fixture by role name: the keys of a ledger. */
export function parties(f: Fixture): Record<string, Address> {
  const out: Record<string, Address> = {
    deployer: addr(f.deployer),
    jobCreator: addr(f.jobCreator),
    provider: addr(f.providers[0]),
    provider2: addr(f.providers[1]),
    provider3: addr(f.providers[2]),
    stranger: addr(f.stranger),
    moduleCreator: addr(f.moduleCreator),
  };
  for (const [i, m] of f.mediators.entries()) out[`mediator${i}`] = addr(m);
  return out;
}

/** The role name of a fixture client (e.g. the mediator the draw picked). */
export function nameOf(f: Fixture, client: LilyClient | Address): string {
  const a = typeof client === "string" ? client : addr(client);
  const hit = Object.entries(parties(f)).find(([, v]) => v.toLowerCase() === a.toLowerCase());
  if (!hit) throw new Error(`${a} is not a fixture party`);
  return hit[0];
}

/**
 * Everything a test can lose: each party's escrow (`escrow:<name>`) and wallet
 * (`wallet:<name>`) balance, `totalLocked`, what the deals contract holds, and the token supply.
 * `extra` adds accounts outside the fixture (a contract under test).
 */
export type Ledger = Record<string, bigint>;

export async function ledger(f: Fixture, extra: Record<string, Address> = {}): Promise<Ledger> {
  const r = f.deployer;
  const who = { ...parties(f), ...extra };
  const out: Ledger = {};
  await Promise.all(
    Object.entries(who).map(async ([name, account]) => {
      out[`escrow:${name}`] = await escrowBalance(r, { account });
      out[`wallet:${name}`] = await tokenBalance(r, { account });
    }),
  );
  out.totalLocked = await totalLocked(r);
  out.dealsHolds = await tokenBalance(r, { account: f.addresses.deals });
  out.supply = await r.publicClient.readContract({ address: f.addresses.token, abi: lilyTokenAbi, functionName: "totalSupply" });
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Conservation, exactly: the deals contract holds Σ escrow + totalLocked, the supply is the one
 * minted at deployment, and every token of it is in some wallet or in the contract.
 */
export async function assertConserved(f: Fixture, extra: Record<string, Address> = {}): Promise<Ledger> {
  const l = await ledger(f, extra);
  const sum = (prefix: string) =>
    Object.entries(l)
      .filter(([k]) => k.startsWith(prefix))
      .reduce((s, [, v]) => s + v, 0n);
  assert.equal(l.dealsHolds, sum("escrow:") + l.totalLocked, "token.balanceOf(deals) == Σ escrow + totalLocked");
  assert.equal(l.supply, SUPPLY, "the supply is the one minted at deployment");
  assert.equal(sum("wallet:") + l.dealsHolds, l.supply, "every token is in a wallet or in the deals contract");
  return l;
}

/** Nothing anyone holds changed since `before` (and conservation still holds). */
export async function assertUnchanged(f: Fixture, before: Ledger, extra: Record<string, Address> = {}): Promise<void> {
  assert.deepEqual(await assertConserved(f, extra), before);
}

/**
 * Escrow balances moved by exactly `moved` (role name → delta; `totalLocked` too) and nothing
 * else changed: no wallet, not what the contract holds, not the supply. Conservation holds.
 */
export async function assertEscrowMoved(f: Fixture, before: Ledger, moved: Record<string, bigint>, extra: Record<string, Address> = {}): Promise<void> {
  const after = await assertConserved(f, extra);
  const diff: Record<string, bigint> = {};
  for (const [k, v] of Object.entries(after)) if (v !== before[k]) diff[k] = v - before[k]!;
  const want: Record<string, bigint> = {};
  for (const [k, v] of Object.entries(moved)) if (v !== 0n) want[k === "totalLocked" ? k : `escrow:${k}`] = v;
  assert.deepEqual(diff, want);
}

// ---- The contracts themselves ----------------------------------------------------------------

/** The functions that can change state (neither view nor pure). */
export function writeFunctions(abi: Abi): AbiFunction[] {
  return abi.filter((i): i is AbiFunction => i.type === "function" && i.stateMutability !== "view" && i.stateMutability !== "pure");
}

/** LilyDeals' state-changing functions, as packages/chain/README.md ("Interface") documents them. */
export const DOCUMENTED_DEALS_WRITES = [
  "challenge",
  "claimMediationTimeout",
  "claimTimeout",
  "commitResult",
  "commitResults",
  "deposit",
  "finalize",
  "finalizeDeals",
  "lockDraw",
  "openDeal",
  "openDeals",
  "openReplicas",
  "rule",
  "ruleReplicas",
  "settleReplicas",
  "withdraw",
] as const;

/** Every write LilyTrustDeals has: escrow, opening, settling, timing out. */
export const DOCUMENTED_TRUST_DEALS_WRITES = ["deposit", "openDeals", "settleDeals", "timeOut", "withdraw"] as const;

/** LilyToken's: a plain ERC-20's, nothing more. */
export const DOCUMENTED_TOKEN_WRITES = ["approve", "transfer", "transferFrom"] as const;

/** Whether a function name is one an admin, an upgrade, a pause, a mint, a rescue or a way out would go by. */
export function isAdminName(name: string): boolean {
  return (
    /owner|admin|pause|upgrade|implementation|mint|burn|sweep|rescue|drain|seize|recover|emergency|kill|destroy|initiali[sz]e|grantrole|revokerole|withdrawfor|cancel|release|unlock|abort/i.test(
      name,
    ) || /^set[A-Z_]/.test(name) // setters (but not settleReplicas)
  );
}

export { lilyDealsAbi, lilyTokenAbi };

/**
 * The opcodes of a contract's runtime code: PUSH data skipped, the CBOR metadata solc appends
 * (its length is the last two bytes) cut off.
 */
export function opcodes(code: Hex): Set<number> {
  const bytes = Buffer.from(code.slice(2), "hex");
  const metadata = bytes.readUInt16BE(bytes.length - 2) + 2;
  const ops = new Set<number>();
  for (let i = 0; i < bytes.length - metadata; i++) {
    const op = bytes[i]!;
    ops.add(op);
    if (op >= 0x60 && op <= 0x7f) i += op - 0x5f; // PUSH1..PUSH32 carry 1..32 bytes of data
  }
  return ops;
}

export const OPCODE = { ORIGIN: 0x32, CALLCODE: 0xf2, DELEGATECALL: 0xf4, SELFDESTRUCT: 0xff } as const;

/**
 * Every Solidity file `entries` compile from: Lily's own sources and the OpenZeppelin files
 * they import, transitively, by path (relative to the repo root, or the package path).
 */
export function solidityClosure(entries: string[]): Map<string, string> {
  const require = createRequire(resolve(ROOT, "package.json"));
  const seen = new Map<string, string>();
  const visit = (file: string) => {
    const key = file.startsWith(ROOT) ? relative(ROOT, file) : file;
    if (seen.has(key)) return;
    const text = readFileSync(file, "utf8");
    seen.set(key, text);
    for (const [, spec] of text.matchAll(/^\s*import\s+(?:\{[^}]*\}\s+from\s+)?"([^"]+)"/gm)) {
      visit(spec!.startsWith(".") ? resolve(dirname(file), spec!) : require.resolve(spec!));
    }
  };
  for (const e of entries) visit(resolve(ROOT, e));
  return seen;
}

/** Solidity without its comments (so a comment that says "never tx.origin" is not a use of it). */
export function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
}

// ---- A contract that calls on -----------------------------------------------------------------

/**
 * Any contract a party happens to call (a DEX, a game, a wallet plug-in): whoever calls
 * `forward`, it calls `target` with `data` as itself. If LilyDeals or LilyToken trusted
 * `tx.origin`, a party calling it would lend it that party's authority.
 */
const RELAY_SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

contract Relay {
    function forward(address target, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory result) = target.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
        return result;
    }
}
`;

export interface Relay {
  address: Address;
  /** `from` calls relay.forward(target, data): the relayed call's sender is the relay, its origin `from`. */
  forward(from: LilyClient, target: Address, data: Hex): Promise<void>;
}

export async function deployRelay(f: Fixture): Promise<Relay> {
  const { abi, bytecode } = compileSolidity({ "test/authority/Relay.sol": RELAY_SOURCE }).contracts.Relay!;
  const relayAbi = [...(abi as Abi), ...lilyErrorsAbi] as Abi;
  const { publicClient, walletClient } = f.deployer;
  const receipt = await publicClient.waitForTransactionReceipt({ hash: await walletClient!.deployContract({ abi: relayAbi, bytecode, args: [] }) });
  const address = getAddress(receipt.contractAddress!);
  return {
    address,
    forward: (from, target, data) =>
      withLilyErrors(async () => {
        const hash = await from.walletClient!.writeContract({ address, abi: relayAbi, functionName: "forward", args: [target, data] });
        const r = await from.publicClient.waitForTransactionReceipt({ hash });
        assert.equal(r.status, "success");
      }),
  };
}

// ---- Offers, a proposal, a store: what the off-chain checks are given --------------------------

/**
 * A real content-addressed store (HTTP server over a temp dir) and its verifying client, holding
 * the built modules' binaries (a provider fetches a module's binary before it signs).
 */
export async function startTestStore(): Promise<{ store: StoreClient; blocks: BlockStore; close(): Promise<void> }> {
  const dataDir = tempDir("lily-authority-store-");
  const server = await startStore({ ...defaultStoreOptions, dataDir }, { logger: createLogger({ module: "store", level: "error" }) });
  const store = new StoreClient(server.url);
  for (const m of loadCatalog()) await store.putBytes(m.wasmBytes);
  return { store, blocks: server.blocks, close: () => server.close() };
}

export interface Proposal {
  job: JobOfferRecord;
  resource: ResourceOfferRecord;
  /** The provider's own offers by id, as `checkProposal` looks them up. */
  offers: Map<string, ResourceOffer>;
  deal: DealMessage;
  /** The solver's record of the proposed deal, as the provider receives it. */
  record: DealRecord;
  /** Chain time when it was made, in seconds: the `nowSeconds` to check it at. */
  now: number;
}

/**
 * A job offer signed by the fixture's job creator and a resource offer signed by `provider`,
 * and the deal a solver would propose from them (trust unless `job` says otherwise).
 */
export async function proposal(
  f: Fixture,
  o: {
    module: string;
    inputs: string;
    provider?: LilyClient;
    modules?: string[];
    job?: Partial<JobOffer>;
    resource?: Partial<ResourceOffer>;
    deal?: Partial<DealMessage>;
  },
): Promise<Proposal> {
  const domain = f.deployer.domain;
  const rp = o.provider ?? f.provider;
  // Chain time, which the tests move forward: the deadline and expiries follow it.
  const now = (await f.deployer.publicClient.getBlock()).timestamp;
  const offer: JobOffer = {
    jobCreator: addr(f.jobCreator),
    module: o.module,
    inputs: o.inputs,
    cpu: 1,
    memoryMb: 16,
    ...PLAIN_JOB_TERMS,
    maxPrice: parseEther("5"),
    timeoutSeconds: 60n,
    expiresAt: now + 3600n,
    nonce: BigInt(Date.now()),
    ...o.job,
  };
  const ro: ResourceOffer = {
    provider: addr(rp),
    cpu: 4,
    memoryMb: 4096,
    gpu: 0,
    vramMb: 0,
    price: parseEther("3"),
    collateral: parseEther("5"),
    modules: o.modules ?? [o.module],
    mediators: offer.mediators,
    expiresAt: now + 3600n,
    nonce: BigInt(Date.now()),
    ...o.resource,
  };
  const jobId = hashRecord(domain, "JobOffer", offer);
  const roId = hashRecord(domain, "ResourceOffer", ro);
  // As a solver proposes it: open within a sign window (60 s), then the job's time.
  const deal: DealMessage = { ...deriveDeal({ id: jobId, offer }, { id: roId, offer: ro }, { openBy: now + 60n }), ...o.deal };
  const at = Date.now();
  // Through the wire schemas, as a solver would hand them over.
  return {
    job: JobOfferRecord.parse({
      id: jobId,
      offer,
      signature: await signRecord(f.jobCreator.account!, domain, "JobOffer", offer),
      status: "matched",
      createdAt: at,
    }),
    resource: ResourceOfferRecord.parse({
      id: roId,
      offer: ro,
      signature: await signRecord(rp.account!, domain, "ResourceOffer", ro),
      active: true,
      createdAt: at,
    }),
    offers: new Map([[roId, ro]]),
    deal,
    record: DealRecord.parse({
      id: dealId(f.addresses, deal),
      deal,
      jobOfferId: jobId,
      resourceOfferId: roId,
      module: offer.module,
      inputs: offer.inputs,
      status: "proposed",
      updatedAt: at,
    }),
    now: Number(now),
  };
}

/**
 * The provider's check of a proposal (its own offer, 4 CPUs and 4 GiB free, the defaults for how
 * long it holds itself ready), as a promise that rejects with its decline, so `rejectsWith` reads it.
 */
export async function providerChecks(f: Fixture, p: Proposal, store: StoreClient, o: { record?: DealRecord; job?: JobOfferRecord; me?: Address } = {}) {
  const verdict = await checkProposal(
    {
      domain: f.deployer.domain,
      me: o.me ?? addr(f.provider),
      offers: p.offers,
      capacity: { cpu: 4, memoryMb: 4096, gpu: 0, vramMb: 0 },
      held: NO_RESOURCES,
      maxOpenDelaySeconds: 600,
      maxJobSeconds: 3600,
      now: p.now,
      source: store,
    },
    o.record ?? p.record,
    o.job ?? p.job,
  );
  if (!verdict.sign) throw verdict.decline;
  return verdict;
}
