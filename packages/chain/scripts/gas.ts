// Gas per call on a fresh anvil: one job that settles (trust) and one that times out, with the
// one-off deposits shown apart from the per-job cost. Run: node packages/chain/scripts/gas.ts
import { keccak256, parseEther, toHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { Policy, signRecord, type DealMessage } from "@lily/protocol";
import {
  claimTimeout,
  commitResult,
  createLilyClient,
  deployLily,
  deposit,
  devAccounts,
  fundAccount,
  openDeal,
  startAnvil,
  type LilyClient,
} from "../src/index.ts";

const anvil = await startAnvil();
try {
  const addresses = await deployLily({ rpcUrl: anvil.rpcUrl, deployerKey: devAccounts[0], supply: parseEther("1000000") });
  const client = (key: Hex) => createLilyClient({ rpcUrl: anvil.rpcUrl, account: privateKeyToAccount(key), addresses });
  const [deployer, jc, rp] = [client(devAccounts[0]), client(devAccounts[1]), client(devAccounts[2])];
  for (const party of [jc, rp]) await fundAccount(deployer, { to: party.account!.address, tokens: parseEther("1000") });

  const anvilRpc = (method: string, params: unknown[]) => deployer.publicClient.request({ method, params } as never);
  const rows: [string, bigint][] = [];
  const jcDeposit = await deposit(jc, { amount: parseEther("100") });
  await deposit(rp, { amount: parseEther("100") });
  rows.push(["approve (once per party)", jcDeposit.approval!.gasUsed], ["deposit (once per party)", jcDeposit.gasUsed]);

  let nonce = 0;
  const newDeal = async (deadlineIn: number) => {
    const block = await jc.publicClient.getBlock();
    const deal: DealMessage = {
      jobCreator: jc.account!.address,
      provider: rp.account!.address,
      jobOffer: keccak256(toHex(`job offer ${nonce}`)),
      resourceOffer: keccak256(toHex(`resource offer ${nonce++}`)),
      price: parseEther("1"),
      collateral: parseEther("2"),
      deadline: block.timestamp + BigInt(deadlineIn),
      policy: Policy.trust,
      policyParam: 0n,
    };
    const sign = (c: LilyClient) => signRecord(c.account!, c.domain, "Deal", deal);
    return { deal, jobCreatorSig: await sign(jc), providerSig: await sign(rp) };
  };

  // The very first lock turns totalLocked from zero to non-zero (a 22k-gas store); after that,
  // with any deal open, every openDeal pays the steady-state price measured below.
  const first = await newDeal(120);
  const firstOpened = await openDeal(rp, first);
  const settled = await newDeal(3600);
  const opened = await openDeal(rp, settled);
  const committed = await commitResult(rp, { deal: settled.deal, resultDigest: keccak256(toHex("result")) });
  const silent = await newDeal(60);
  const silentOpened = await openDeal(rp, silent);
  await anvilRpc("evm_increaseTime", [toHex(121)]);
  await anvilRpc("evm_mine", []);
  const timedOut = await claimTimeout(jc, { deal: silent.deal });
  await claimTimeout(jc, { deal: first.deal });
  rows.push(
    ["openDeal, first deal on an empty contract", firstOpened.gasUsed],
    ["openDeal", opened.gasUsed],
    ["commitResult (settles under trust)", committed.gasUsed],
    ["claimTimeout", timedOut.gasUsed],
    ["per job, settled: openDeal + commitResult", opened.gasUsed + committed.gasUsed],
    ["per job, timed out: openDeal + claimTimeout", silentOpened.gasUsed + timedOut.gasUsed],
  );

  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(`${"call".padEnd(width)}  ${"gas".padStart(7)}`);
  for (const [name, gas] of rows) console.log(`${name.padEnd(width)}  ${gas.toLocaleString("en").padStart(7)}`);
} finally {
  await anvil.stop();
}
