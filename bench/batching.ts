// `node bench/batching.ts` (npm run bench:batching): gas per job when deals are opened and
// results settled in batches, against the single-deal path in the same run and the 1.77M gas per
// job of the system Lily is modelled on (target: a hundredth of it, 17.7k, at batch size 100).
// Everything is measured on a fresh anvil from the receipts' gasUsed, in the steady state (every
// balance already non-zero, another deal open), one job creator and one provider, trust policy
// with a 5% royalty (the common case) unless the row says otherwise. A "job" is one deal opened
// and settled; per-job figures are a transaction's gasUsed divided by the items it carried.
// Rows: `single` = openDeal + commitResult per deal; `batch N` = openDeals(N) + commitResults(N)
// sent by a third party (the solver: both signatures checked); `batch N, provider sends` = the
// provider submits openDeals itself (its own signature is not needed). Optimistic adds
// finalizeDeals(N) after the window. `trust batch N` rows use LilyTrustDeals, the trust-only path
// with no storage per deal (openDeals + settleDeals with a multiproof): `provider sends` as above;
// `solver sends` with both signatures; `100 job creators` with a different job creator per deal,
// each balance written cold (the other rows' single job creator hides that: ~5k gas a deal).
// Progress goes to stderr, the table to stdout (`--json`).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { keccak256, parseEther, toHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  NO_MEDIATORS,
  NO_REPLICAS,
  Policy,
  mediatorSetHash,
  signRecord,
  trustDealOffers,
  type DealMessage,
  type PolicyName,
  type TrustDealMessage,
} from "@lily/protocol";
import {
  commitResult,
  commitResults,
  createLilyClient,
  deployLily,
  deposit,
  devAccounts,
  finalize,
  finalizeDeals,
  fundAccount,
  openDeal,
  openDeals,
  openTrustDeals,
  settleTrustDeals,
  startAnvil,
  trustDealDomain,
  trustTermsOf,
  type LilyClient,
} from "@lily/chain";
import { ProviderDb } from "@lily/provider";
import { int, progress, table } from "./stats.ts";

/** Where a trust deal's nonce comes from: a plain counter, a provider's database (as the roles), or a hash of the deal. */
type NonceSource = "counter" | "roles" | "scattered";

const REFERENCE = 1_770_000n;
const TARGET = REFERENCE / 100n;
const { values } = parseArgs({ options: { sizes: { type: "string", default: "1,10,50,100" }, json: { type: "boolean", default: false } } });
const sizes = values.sizes.split(",").map(Number);

const anvil = await startAnvil();
try {
  const addresses = await deployLily({ rpcUrl: anvil.rpcUrl, deployerKey: devAccounts[0], supply: parseEther("10000000"), trustDeals: true });
  const client = (key: Hex) => createLilyClient({ rpcUrl: anvil.rpcUrl, account: privateKeyToAccount(key), addresses });
  const [deployer, jc, provider, solver] = [0, 1, 2, 3].map((i) => client(devAccounts[i]!)) as [LilyClient, LilyClient, LilyClient, LilyClient];
  const moduleCreator = privateKeyToAccount(keccak256(toHex("lily batching bench: module creator"))).address;
  const mediatorSet = [privateKeyToAccount(keccak256(toHex("lily batching bench: mediator"))).address];
  for (const party of [jc, provider]) {
    await fundAccount(deployer, { to: party.account!.address, tokens: parseEther("1000000") });
    await deposit(party, { amount: parseEther("1000000") });
  }
  const rpc = (method: string, params: unknown[]) => deployer.publicClient.request({ method, params } as never);

  let nonce = 0;
  const signDeal = async (policy: PolicyName, policyParam: bigint) => {
    const now = (await deployer.publicClient.getBlock()).timestamp;
    const mediated = policy !== "trust";
    const deal: DealMessage = {
      jobCreator: jc.account!.address,
      provider: provider.account!.address,
      jobOffer: keccak256(toHex(`bench job offer ${++nonce}`)),
      resourceOffer: keccak256(toHex(`bench resource offer ${nonce}`)),
      price: parseEther("1"),
      collateral: parseEther("2"),
      openBy: now + 3599n,
      deadline: now + 3600n,
      policy: Policy[policy],
      policyParam,
      mediationFee: mediated ? parseEther("0.1") : 0n,
      mediators: mediated ? mediatorSetHash(mediatorSet) : NO_MEDIATORS,
      replicas: NO_REPLICAS,
      moduleCreator,
      royaltyBps: 500,
    };
    const sign = (c: LilyClient) => signRecord(c.account!, c.domain, "Deal", deal);
    return { deal, jobCreatorSig: await sign(jc), providerSig: await sign(provider) };
  };
  const signMany = async (n: number, policy: PolicyName, param: bigint) => {
    const out = [];
    for (let i = 0; i < n; i++) out.push(await signDeal(policy, param));
    return out;
  };
  const digest = keccak256(toHex("bench result"));

  // Steady state: one deal stays open throughout, so totalLocked is never written from zero, and
  // one settled job has already credited the module creator, so no row pays its first royalty.
  await openDeal(solver, await signDeal("trust", 0n));
  const warmUp = await signDeal("trust", 0n);
  await openDeal(solver, warmUp);
  await commitResult(provider, { deal: warmUp.deal, resultDigest: keccak256(toHex("warm-up")) });

  interface Row {
    path: string;
    size: number;
    open: bigint;
    settle: bigint;
    finalize?: bigint;
  }
  const rows: Row[] = [];
  const perJob = (gas: bigint, n: number) => gas / BigInt(n);

  // The single-deal path, averaged over 5 jobs.
  {
    const n = 5;
    let open = 0n;
    let settle = 0n;
    for (const s of await signMany(n, "trust", 0n)) {
      open += (await openDeal(solver, s)).gasUsed;
      settle += (await commitResult(provider, { deal: s.deal, resultDigest: digest })).gasUsed;
    }
    rows.push({ path: "single (openDeal + commitResult)", size: 1, open: open / BigInt(n), settle: settle / BigInt(n) });
    progress(`single: ${rows.at(-1)!.open} + ${rows.at(-1)!.settle}`);
  }

  const batch = async (path: string, n: number, sender: LilyClient, policy: PolicyName, param: bigint) => {
    const signed = await signMany(n, policy, param);
    const items = sender === provider ? signed.map((s) => ({ ...s, providerSig: "0x" as Hex })) : signed;
    const opened = await openDeals(sender, { deals: items });
    if (opened.skipped.length > 0) throw new Error(`${path}: ${opened.skipped.length} items skipped at open`);
    const committed = await commitResults(provider, { results: signed.map((s) => ({ deal: s.deal, resultDigest: digest })) });
    if (committed.committed.length !== n) throw new Error(`${path}: ${committed.skipped.length} items skipped at commit`);
    const row: Row = { path, size: n, open: perJob(opened.gasUsed, n), settle: perJob(committed.gasUsed, n) };
    if (policy === "optimistic") {
      await rpc("evm_increaseTime", [toHex(Number(param))]);
      await rpc("evm_mine", []);
      const finalized = await finalizeDeals(solver, { deals: signed.map((s) => s.deal) });
      if (finalized.settled.length !== n) throw new Error(`${path}: ${finalized.skipped.length} items skipped at finalize`);
      row.finalize = perJob(finalized.gasUsed, n);
    }
    rows.push(row);
    progress(`${path} ×${n}: ${row.open} + ${row.settle}${row.finalize ? ` + ${row.finalize}` : ""} per job`);
  };

  for (const n of sizes) await batch("batch, solver sends", n, solver, "trust", 0n);
  for (const n of sizes) await batch("batch, provider sends", n, provider, "trust", 0n);

  // Optimistic, for comparison: single, then the largest batch.
  {
    const s = await signDeal("optimistic", 60n);
    const open = (await openDeal(solver, s)).gasUsed;
    const settle = (await commitResult(provider, { deal: s.deal, resultDigest: digest })).gasUsed;
    await rpc("evm_increaseTime", [toHex(60)]);
    await rpc("evm_mine", []);
    const fin = (await finalize(solver, { deal: s.deal })).gasUsed;
    rows.push({ path: "single optimistic (open, commit, finalize)", size: 1, open, settle, finalize: fin });
    await batch("batch optimistic, solver sends", Math.max(...sizes), solver, "optimistic", 60n);
  }

  // LilyTrustDeals: its own escrow, so its own deposits and its own steady state.
  {
    const escrow = addresses.trustDeals!;
    for (const party of [jc, provider]) {
      await fundAccount(deployer, { to: party.account!.address, tokens: parseEther("100000") });
      await deposit(party, { amount: parseEther("100000"), escrow });
    }
    const creators = [jc];
    for (let i = 0; i < Math.max(...sizes); i++) {
      const c = client(keccak256(toHex(`lily batching bench: job creator ${i}`)));
      await fundAccount(deployer, { to: c.account!.address, tokens: parseEther("100"), eth: parseEther("1") });
      await deposit(c, { amount: parseEther("100"), escrow });
      creators.push(c);
    }
    let trustNonce = 0n;
    // Nonces in sequence share each provider's state words (128 deals a word). `roles` takes them as
    // a provider does (its database's sequence, ProviderDb.takeTrustNonce); `scattered` from a hash,
    // as the roles did before 11-28 (the deal id's top 64 bits), so every deal writes a fresh word.
    const providerDb = new ProviderDb(join(mkdtempSync(join(tmpdir(), "lily-bench-batching-")), "provider.db"));
    const nonceOf = (n: bigint, nonces: NonceSource, now: bigint) =>
      nonces === "roles" ? providerDb.takeTrustNonce(Number(now)) : nonces === "scattered" ? BigInt(keccak256(toHex(`bench trust deal ${n}`)).slice(0, 18)) : n;
    const signTrust = async (creator: LilyClient, nonces: NonceSource = "counter") => {
      const now = (await deployer.publicClient.getBlock()).timestamp;
      const n = ++trustNonce;
      const deal: TrustDealMessage = {
        jobCreator: creator.account!.address,
        provider: provider.account!.address,
        offers: trustDealOffers(keccak256(toHex(`bench trust job offer ${n}`)), keccak256(toHex("bench trust resource offer"))),
        price: parseEther("1"),
        collateral: parseEther("2"),
        openBy: now + 3599n,
        deadline: now + 3600n,
        nonce: nonceOf(n, nonces, now),
        moduleCreator,
        royaltyBps: 500,
      };
      const sign = (c: LilyClient) => signRecord(c.account!, trustDealDomain(addresses), "TrustDeal", deal);
      return { deal, jobCreatorSig: await sign(creator), providerSig: await sign(provider) };
    };
    const trustBatch = async (path: string, n: number, sender: LilyClient, creatorOf: (i: number) => LilyClient, nonces: NonceSource = "counter") => {
      const signed = [];
      for (let i = 0; i < n; i++) signed.push(await signTrust(creatorOf(i), nonces));
      const items = sender === provider ? signed.map((s) => ({ ...s, providerSig: "0x" as Hex })) : signed;
      const opened = await openTrustDeals(sender, { deals: items });
      if (opened.skipped.length > 0) throw new Error(`${path}: ${opened.skipped.length} items skipped at open`);
      const settled = await settleTrustDeals(provider, { batchNo: opened.batchNo, leaves: opened.leaves, deals: signed.map((s) => trustTermsOf(s.deal)) });
      if (settled.settled.length !== n) throw new Error(`${path}: ${settled.skipped.length} items skipped at settle`);
      rows.push({ path, size: n, open: perJob(opened.gasUsed, n), settle: perJob(settled.gasUsed, n) });
      progress(`${path} ×${n}: ${rows.at(-1)!.open} + ${rows.at(-1)!.settle} per job`);
    };
    // Steady state, as above: a deal stays open throughout, the module creator was paid once.
    await openTrustDeals(provider, { deals: [{ ...(await signTrust(jc)), providerSig: "0x" }] });
    await trustBatch("warm-up", 1, provider, () => jc);
    rows.pop();
    for (const n of sizes) await trustBatch("trust batch, provider sends", n, provider, () => jc);
    await trustBatch("trust batch, solver sends", Math.max(...sizes), solver, () => jc);
    await trustBatch("trust batch, 100 job creators", Math.max(...sizes), provider, (i) => creators[1 + i]!);
    // Steady state: the provider's sequence already has a deal in its current state word.
    await trustBatch("warm-up", 1, provider, () => jc, "roles");
    rows.pop();
    for (const n of [1, Math.max(...sizes)]) await trustBatch("trust batch, nonces as a provider picks them (the roles)", n, provider, () => jc, "roles");
    for (const n of [1, Math.max(...sizes)]) await trustBatch("trust batch, nonces from deal ids (the roles before 11-28)", n, provider, () => jc, "scattered");
    providerDb.close();
  }

  const total = (r: Row) => r.open + r.settle + (r.finalize ?? 0n);
  const single = total(rows[0]!);
  if (values.json) {
    console.log(
      JSON.stringify(
        {
          reference: Number(REFERENCE),
          target: Number(TARGET),
          rows: rows.map((r) => ({
            ...r,
            open: Number(r.open),
            settle: Number(r.settle),
            finalize: r.finalize === undefined ? undefined : Number(r.finalize),
            total: Number(total(r)),
          })),
        },
        null,
        2,
      ),
    );
  } else {
    console.log(
      table(
        ["path", "batch", "open/job", "commit/job", "finalize/job", "gas per job", "vs single", "vs 1.77M", "target 17.7k"],
        rows.map((r) => [
          r.path,
          String(r.size),
          int(Number(r.open)),
          int(Number(r.settle)),
          r.finalize === undefined ? "" : int(Number(r.finalize)),
          int(Number(total(r))),
          `${(Number(total(r)) / Number(single)).toFixed(2)}×`,
          `1/${(Number(REFERENCE) / Number(total(r))).toFixed(1)}`,
          total(r) <= TARGET ? "met" : `+${int(Number(total(r) - TARGET))}`,
        ]),
      ),
    );
    console.log(`\nreference: 1,770,000 gas per job; target at batch 100: ${int(Number(TARGET))}. trust rows carry a 5% royalty.`);
    console.log("trust batch rows: LilyTrustDeals (no storage per deal; settle = the provider's word, paid at once).");
  }
} finally {
  await anvil.stop();
}
