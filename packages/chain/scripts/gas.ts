// Gas per job for each verification policy, on a fresh anvil: the happy path (every transaction
// one job needs, all parties together) and the dispute path, plus the timeouts. Every job is run
// twice and the second run is reported, so the numbers are the steady state (accounts already
// hold escrow, some deal is open) rather than first-touch storage costs; the one-off deposit
// and the very first lock are shown apart. Run: node packages/chain/scripts/gas.ts
import { keccak256, parseEther, toHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { NO_MEDIATORS, NO_REPLICAS, Policy, mediatorSetHash, replicaGroupHash, signRecord, type DealMessage, type PolicyName } from "@lily/protocol";
import {
  challenge,
  claimMediationTimeout,
  claimTimeout,
  commitResult,
  createLilyClient,
  deployLily,
  deposit,
  devAccounts,
  finalize,
  fundAccount,
  mediatorOf,
  groupMediatorOf,
  lockDraw,
  openDeal,
  openReplicas,
  rule,
  ruleReplicas,
  settleReplicas,
  startAnvil,
  type LilyClient,
  type WriteResult,
} from "../src/index.ts";

const MEDIATION_TIMEOUT = 600;
const anvil = await startAnvil();
try {
  const addresses = await deployLily({
    rpcUrl: anvil.rpcUrl,
    deployerKey: devAccounts[0],
    supply: parseEther("1000000"),
    mediationTimeoutSeconds: MEDIATION_TIMEOUT,
  });
  const client = (key: Hex) => createLilyClient({ rpcUrl: anvil.rpcUrl, account: privateKeyToAccount(key), addresses });
  const extraKey = (name: string) => keccak256(toHex(`lily gas key: ${name}`));
  const [deployer, jc] = [client(devAccounts[0]), client(devAccounts[1])];
  const providers = [client(devAccounts[2]), client(devAccounts[3]), client(devAccounts[4])];
  const mediators = [0, 1, 2].map((i) => client(extraKey(`mediator ${i}`))).sort((a, b) => (BigInt(a.account!.address) < BigInt(b.account!.address) ? -1 : 1));
  const mediatorSet = mediators.map((m) => m.account!.address);
  const moduleCreator = privateKeyToAccount(extraKey("module creator")).address;
  const byAddress = new Map<string, LilyClient>([jc, ...providers, ...mediators].map((c) => [c.account!.address.toLowerCase(), c]));
  const rpc = (method: string, params: unknown[]) => deployer.publicClient.request({ method, params } as never);
  const increaseTime = async (s: number) => {
    await rpc("evm_increaseTime", [toHex(s)]);
    await rpc("evm_mine", []);
  };
  const mine = (n: number) => rpc("anvil_mine", [toHex(n)]);

  for (const party of [jc, ...providers]) await fundAccount(deployer, { to: party.account!.address, tokens: parseEther("10000") });
  const jcDeposit = await deposit(jc, { amount: parseEther("5000") });
  for (const p of providers) await deposit(p, { amount: parseEther("5000") });
  // Mediators hold a little escrow already, so a fee credit is the steady-state update rather
  // than a first write (~17k more), whichever mediator the draw picks.
  for (const m of mediators) {
    await fundAccount(deployer, { to: m.account!.address, eth: parseEther("10"), tokens: 1n });
    await deposit(m, { amount: 1n });
  }

  let nonce = 0;
  type Terms = { provider?: LilyClient; jobOffer?: Hex; deadlineIn?: number; price?: bigint; royaltyBps?: number; replicas?: Hex };
  const signDeal = async (policy: PolicyName, policyParam: bigint, opts: Terms = {}) => {
    const now = (await deployer.publicClient.getBlock()).timestamp;
    const mediated = policy !== "trust";
    const deadline = now + BigInt(opts.deadlineIn ?? 3600);
    const deal: DealMessage = {
      jobCreator: jc.account!.address,
      provider: (opts.provider ?? providers[0]).account!.address,
      jobOffer: opts.jobOffer ?? keccak256(toHex(`job offer ${nonce}`)),
      resourceOffer: keccak256(toHex(`resource offer ${nonce++}`)),
      price: opts.price ?? parseEther("1"),
      collateral: parseEther("2"),
      openBy: deadline - 1n,
      deadline,
      policy: Policy[policy],
      policyParam,
      mediationFee: mediated ? parseEther("0.1") : 0n,
      mediators: mediated ? mediatorSetHash(mediatorSet) : NO_MEDIATORS,
      replicas: opts.replicas ?? NO_REPLICAS,
      moduleCreator,
      royaltyBps: opts.royaltyBps ?? (policy === "trust" ? 0 : 500),
    };
    const sign = (c: LilyClient) => signRecord(c.account!, c.domain, "Deal", deal);
    return { deal, jobCreatorSig: await sign(jc), providerSig: await sign(byAddress.get(deal.provider.toLowerCase())!) };
  };
  const newDeal = async (policy: PolicyName, policyParam: bigint, opts: Terms = {}) => {
    const signed = await signDeal(policy, policyParam, opts);
    return { deal: signed.deal, opened: await openDeal(providers[0], signed) };
  };
  /** A replicate(3) group with the three providers, opened whole in one transaction. */
  const newGroup = async () => {
    const jobOffer = keccak256(toHex(`replicated job ${nonce}`));
    const replicas = replicaGroupHash(providers.map((p) => p.account!.address));
    const signed = [];
    for (const p of providers) signed.push(await signDeal("replicate", 3n, { provider: p, jobOffer, replicas }));
    return { deals: signed.map((x) => x.deal), opened: await openReplicas(providers[0], { replicas: signed }) };
  };
  const providerOf = (deal: DealMessage) => byAddress.get(deal.provider.toLowerCase())!;
  const drawn = async (deal: DealMessage | DealMessage[]) => {
    await mine(2); // the mediator is drawn from the block after the draw block
    const who = Array.isArray(deal)
      ? await groupMediatorOf(deployer, { deals: deal, mediators: mediatorSet })
      : await mediatorOf(deployer, { deal, mediators: mediatorSet });
    return byAddress.get(who.toLowerCase())!;
  };
  const sum = (txs: WriteResult[]) => txs.reduce((a, t) => a + t.gasUsed, 0n);
  const right = keccak256(toHex("the right result"));
  const wrong = keccak256(toHex("a wrong result"));

  // One job per scenario; returns its transactions in order.
  const scenarios: Record<string, () => Promise<WriteResult[]>> = {
    "trust (no royalty)": async () => {
      const { deal, opened } = await newDeal("trust", 0n);
      return [opened, await commitResult(providers[0], { deal, resultDigest: right })];
    },
    "trust, with a 5% royalty": async () => {
      const { deal, opened } = await newDeal("trust", 0n, { royaltyBps: 500 });
      return [opened, await commitResult(providers[0], { deal, resultDigest: right })];
    },
    "optimistic(60 s)": async () => {
      const { deal, opened } = await newDeal("optimistic", 60n);
      const committed = await commitResult(providers[0], { deal, resultDigest: right });
      await increaseTime(60);
      return [opened, committed, await finalize(deployer, { deal })];
    },
    "audit(p), not drawn": async () => {
      // p = 1 ppm: safe with collateral >= 10^6 × price, so the price is tiny here.
      const { deal, opened } = await newDeal("audit", 1n, { price: 1_000_000_000_000n });
      const committed = await commitResult(providers[0], { deal, resultDigest: right });
      await mine(2);
      const f = await finalize(deployer, { deal });
      if (f.audit?.audited) throw new Error("unlucky draw at p = 1 ppm; run again");
      return [opened, committed, f];
    },
    "replicate(3), unanimous": async () => {
      const { deals, opened } = await newGroup();
      const txs: WriteResult[] = [opened];
      for (const deal of deals) txs.push(await commitResult(providerOf(deal), { deal, resultDigest: right }));
      txs.push(await settleReplicas(deployer, { deals }));
      return txs;
    },
    "replicate(3), one wrong (slashed by the tally)": async () => {
      const { deals, opened } = await newGroup();
      const txs: WriteResult[] = [opened];
      for (const [i, deal] of deals.entries()) txs.push(await commitResult(providerOf(deal), { deal, resultDigest: i === 2 ? wrong : right }));
      txs.push(await settleReplicas(deployer, { deals }));
      return txs;
    },
  };
  /** An optimistic deal challenged by the job creator and ruled on by the drawn mediator. */
  const challenged = async (providerCorrect: boolean): Promise<WriteResult[]> => {
    const { deal, opened } = await newDeal("optimistic", 60n);
    const committed = await commitResult(providers[0], { deal, resultDigest: providerCorrect ? right : wrong });
    const disputed = await challenge(jc, { deal, reason: providerCorrect ? "false challenge" : "wrong output" });
    const mediator = await drawn(deal);
    const locked = await lockDraw(mediator, { deal }); // what the drawn mediator does before it re-runs
    return [opened, committed, disputed, locked, await rule(mediator, { deal, mediators: mediatorSet, providerCorrect, comparator: "exact" })];
  };
  const disputes: Record<string, () => Promise<WriteResult[]>> = {
    "optimistic, challenged, provider wrong": () => challenged(false),
    "optimistic, challenged, provider right": () => challenged(true),
    "audit(100%), audited, provider wrong": async () => {
      const { deal, opened } = await newDeal("audit", 1_000_000n);
      const committed = await commitResult(providers[0], { deal, resultDigest: wrong });
      await mine(2);
      const audited = await finalize(deployer, { deal });
      const mediator = await drawn(deal);
      const locked = await lockDraw(mediator, { deal });
      return [opened, committed, audited, locked, await rule(mediator, { deal, mediators: mediatorSet, providerCorrect: false, comparator: "exact" })];
    },
    "replicate(3), no majority, mediated": async () => {
      const { deals, opened } = await newGroup();
      const txs: WriteResult[] = [opened];
      for (const [i, deal] of deals.entries()) txs.push(await commitResult(providerOf(deal), { deal, resultDigest: keccak256(toHex(`result ${i}`)) }));
      txs.push(await settleReplicas(deployer, { deals }));
      const mediator = await drawn(deals);
      txs.push(await lockDraw(mediator, { deal: deals[0]! })); // deals are in provider order: the first is the group's disputed one
      txs.push(await ruleReplicas(mediator, { deals, mediators: mediatorSet, correct: [true, false, false], comparator: "exact" }));
      return txs;
    },
    "trust, provider silent (claimTimeout)": async () => {
      const { deal, opened } = await newDeal("trust", 0n, { deadlineIn: 30 });
      await increaseTime(31);
      return [opened, await claimTimeout(deployer, { deal })];
    },
    "optimistic, provider silent (claimTimeout)": async () => {
      const { deal, opened } = await newDeal("optimistic", 60n, { deadlineIn: 30 });
      await increaseTime(31);
      return [opened, await claimTimeout(deployer, { deal })];
    },
    "optimistic, mediator silent (claimMediationTimeout)": async () => {
      const { deal, opened } = await newDeal("optimistic", 60n);
      const committed = await commitResult(providers[0], { deal, resultDigest: wrong });
      const challenged = await challenge(jc, { deal });
      await increaseTime(MEDIATION_TIMEOUT);
      return [opened, committed, challenged, await claimMediationTimeout(deployer, { deal })];
    },
  };

  // Keep one deal open throughout, so no measured lock pays to turn totalLocked from zero.
  const first = await newDeal("trust", 0n, { deadlineIn: 100_000 });
  const measure = async (table: Record<string, () => Promise<WriteResult[]>>) => {
    const rows: [string, WriteResult[]][] = [];
    for (const [name, run] of Object.entries(table)) {
      await run(); // warm-up: first credits to fresh balances (mediator, module creator)
      rows.push([name, await run()]);
    }
    return rows;
  };
  const happy = await measure(scenarios);
  const dispute = await measure(disputes);

  const print = (title: string, rows: [string, WriteResult[]][]) => {
    const width = Math.max(...rows.map(([n]) => n.length), title.length);
    console.log(`\n${title.padEnd(width)}  txs  ${"gas per job".padStart(11)}  per transaction`);
    for (const [name, txs] of rows) {
      console.log(
        `${name.padEnd(width)}  ${String(txs.length).padStart(3)}  ${sum(txs).toLocaleString("en").padStart(11)}  ${txs.map((t) => t.gasUsed.toLocaleString("en")).join(" + ")}`,
      );
    }
  };
  console.log(
    `one-off: approve ${jcDeposit.approval!.gasUsed.toLocaleString("en")}, deposit ${jcDeposit.gasUsed.toLocaleString("en")}; the first lock on an empty contract ${first.opened.gasUsed.toLocaleString("en")}`,
  );
  print("happy path", happy);
  print("dispute and timeout paths", dispute);
} finally {
  await anvil.stop();
}
