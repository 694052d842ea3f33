// `npm run bench:gateway`: what Anura costs on top of the model, each figure against a baseline
// measured in this same run:
//   1. latency of one chat answer (p50, p99), time to first token and tokens/s, through the
//      gateway with the official openai client (streaming) vs the model executor alone
//      (createLlamaRunner on the same GGUF, in this process);
//   2. on-chain gas per 1,000 requests under leases (openLease + closeLease + releaseCollateral per
//      lease, measured on the devnet's chain, times the leases the run used per 1,000 answers) vs one
//      trust-policy deal per request (a real job's transactions, read back from its deal's events);
//   3. requests/s the gateway sustains with C concurrent streaming clients vs one client.
// Progress goes to stderr, the table to stdout (`--json`: the numbers as JSON instead).
import { parseArgs } from "node:util";
import OpenAI from "openai";
import { parseEther, zeroAddress, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { closeLease, createLilyClient, deposit, devAccounts, fundAccount, leaseDomain, openLease, releaseLeaseCollateral, type LilyClient } from "@lily/chain";
import { createLlamaRunner } from "@lily/executor";
import { cidForRecord, hashRecord, signRecord, type InferenceRequest, type Lease } from "@lily/protocol";
import { TINY_MODEL_PATH } from "@lily/modules/tinyModel";
import { dealCost } from "./chain.ts";
import { runLily, startDevnet, stopAll } from "./devnet.ts";
import { int, ms, progress, quantile, ratio, table } from "./stats.ts";

const USAGE = `usage: npm run bench:gateway [-- --requests N] [--max-tokens T] [--clients C] [--seconds S] [--json]
  --requests N    sequential answers measured each way (default 40)
  --max-tokens T  tokens per answer (default 64)
  --clients C     concurrent streaming clients for the throughput figure (default 50)
  --seconds S     how long the concurrent load runs (default 15)
  --json          print the numbers as JSON instead of the table`;

const { values: o } = parseArgs({
  options: {
    requests: { type: "string", default: "40" },
    "max-tokens": { type: "string", default: "64" },
    clients: { type: "string", default: "50" },
    seconds: { type: "string", default: "15" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (o.help) {
  console.log(USAGE);
  process.exit(0);
}
const N = Number(o.requests);
const MAX_TOKENS = Number(o["max-tokens"]);
const CLIENTS = Number(o.clients);
const SECONDS = Number(o.seconds);
const prompt = (i: number) => `Tell me a story, number ${i}.`;

interface Timing {
  totalMs: number;
  firstTokenMs: number;
  tokens: number;
}

function summary(ts: Timing[]) {
  const total = ts.map((t) => t.totalMs);
  const tps = ts.map((t) => t.tokens / (t.totalMs / 1000));
  return {
    p50: quantile(total, 0.5),
    p99: quantile(total, 0.99),
    ttft: quantile(
      ts.map((t) => t.firstTokenMs),
      0.5,
    ),
    tokensPerSecond: quantile(tps, 0.5),
  };
}

async function executorAlone(): Promise<Timing[]> {
  progress(`executor alone: ${N} answers of ${MAX_TOKENS} tokens`);
  const runner = await createLlamaRunner({ modelPath: TINY_MODEL_PATH });
  const model = cidForRecord({ bench: "tiny" }).cid;
  const out: Timing[] = [];
  try {
    for (let i = 0; i < N + 2; i++) {
      const req: InferenceRequest = {
        kind: "chat",
        messages: [{ role: "user", content: prompt(i) }],
        model,
        maxTokens: MAX_TOKENS,
        temperature: 0,
        topP: 1,
        seed: i,
        stop: [],
      };
      const t0 = performance.now();
      let first = Number.NaN;
      const res = await runner.generate(req, {
        onText: () => {
          if (Number.isNaN(first)) first = performance.now() - t0;
        },
      });
      // The first two warm the model up, as the gateway's first requests also open its lease.
      if (i >= 2) out.push({ totalMs: performance.now() - t0, firstTokenMs: first, tokens: res.outputTokens });
    }
  } finally {
    await runner.close();
  }
  return out;
}

/** Every lease an answer came under, from the `lily` field of streams' last chunks. */
const leasesUsed = new Set<string>();

async function oneStreamed(openai: OpenAI, i: number): Promise<Timing> {
  const t0 = performance.now();
  let first = Number.NaN;
  let tokens = 0;
  const stream = await openai.chat.completions.create({
    model: "tiny",
    messages: [{ role: "user", content: prompt(i) }],
    max_tokens: MAX_TOKENS,
    temperature: 0,
    seed: i,
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta?.content && Number.isNaN(first)) first = performance.now() - t0;
    if (chunk.usage) tokens = chunk.usage.completion_tokens;
    const lily = (chunk as { lily?: { lease?: string } }).lily;
    if (lily?.lease) leasesUsed.add(lily.lease);
  }
  return { totalMs: performance.now() - t0, firstTokenMs: first, tokens };
}

async function throughput(openai: OpenAI, clients: number, seconds: number): Promise<{ done: number; failed: number; perSecond: number }> {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; performance.now() < end; i++) {
        try {
          await oneStreamed(openai, c * 100_000 + i);
          done++;
        } catch (e) {
          failed++;
          if (failed <= 3) progress(`request failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    }),
  );
  return { done, failed, perSecond: done / ((performance.now() - t0) / 1000) };
}

/** Gas of one lease's whole life on the devnet's chain: open, close with a voucher, release. */
async function leaseGas(rpcUrl: string, addresses: LilyClient["addresses"], bank: LilyClient): Promise<{ open: bigint; close: bigint; release: bigint }> {
  const [payer, provider, mediator] = [0, 1, 2].map(() => createLilyClient({ rpcUrl, account: privateKeyToAccount(generatePrivateKey()), addresses }));
  for (const c of [payer!, provider!, mediator!]) await fundAccount(bank, { to: c.account!.address, eth: parseEther("1"), tokens: parseEther("10") });
  for (const c of [payer!, provider!]) await deposit(c, { amount: parseEther("10"), escrow: addresses.leases });
  const now = BigInt(Math.floor(Date.now() / 1000));
  const block = await bank.publicClient.getBlock();
  const t = block.timestamp > now ? block.timestamp : now;
  const lease: Lease = {
    payer: payer!.account!.address,
    provider: provider!.account!.address,
    model: cidForRecord({ bench: "tiny" }).cid,
    budget: parseEther("1"),
    collateral: parseEther("1"),
    inputPricePer1k: 10n ** 14n,
    outputPricePer1k: 2n * 10n ** 14n,
    openBy: t + 600n,
    expiresAt: t + 601n,
    mediator: mediator!.account!.address,
    mediationFee: 0n,
    auditBps: 1000,
    moduleCreator: zeroAddress,
    royaltyBps: 0,
    nonce: 1n,
  };
  const domain = leaseDomain(addresses);
  const opened = await openLease(payer!, {
    lease,
    payerSignature: await signRecord(payer!.account!, domain, "Lease", lease),
    providerSignature: await signRecord(provider!.account!, domain, "Lease", lease),
  });
  const voucher = { lease: hashRecord(domain, "Lease", lease), amount: parseEther("0.5"), requests: 1000n };
  const closed = await closeLease(provider!, {
    lease,
    amount: voucher.amount,
    requests: voucher.requests,
    voucherSignature: await signRecord(payer!.account!, domain, "Voucher", voucher),
  });
  // Past the audit window (the devnet's default is a day): time moves only on this chain.
  await bank.publicClient.request({ method: "evm_increaseTime" as never, params: [2 * 86_400 + 1000] as never });
  await bank.publicClient.request({ method: "evm_mine" as never, params: [] as never });
  const released = await releaseLeaseCollateral(mediator!, { lease });
  return { open: opened.gasUsed, close: closed.gasUsed, release: released.gasUsed };
}

async function main() {
  const alone = summary(await executorAlone());
  progress("starting a devnet");
  const devnet = await startDevnet(["--docker", "off"]); // container modules play no part here
  try {
    const key = await runLily(devnet.home, ["keys", "create", "--json"]);
    if (key.code !== 0) throw new Error(`lily keys create failed: ${key.stderr}`);
    const gatewayUrl = (devnet.network as unknown as { gatewayUrl: string }).gatewayUrl;
    const openai = new OpenAI({ baseURL: `${gatewayUrl}/v1`, apiKey: (JSON.parse(key.stdout) as { key: string }).key, maxRetries: 0 });
    progress(`through the gateway: ${N} streamed answers of ${MAX_TOKENS} tokens`);
    for (let i = 0; i < 2; i++) await oneStreamed(openai, i); // opens the lease; not timed
    const timings: Timing[] = [];
    for (let i = 0; i < N; i++) timings.push(await oneStreamed(openai, i + 2));
    const gw = summary(timings);

    progress(`throughput: 1 client, then ${CLIENTS} clients, ${SECONDS} s each`);
    const single = await throughput(openai, 1, SECONDS);
    const many = await throughput(openai, CLIENTS, SECONDS);
    const answered = N + 2 + single.done + many.done;

    const net = devnet.network;
    const addresses = { chainId: net.chainId, token: net.token, deals: net.deals, registry: net.registry, leases: net.leases, deployBlock: net.deployBlock };
    // The devnet's deployer is anvil's first dev account, which still holds most of the supply.
    const bank = createLilyClient({ rpcUrl: net.rpcUrl, account: privateKeyToAccount(devAccounts[0]!), addresses });
    // The baseline: the same chain's cost of one job as a deal (trust policy), measured from a real job's events.
    progress("gas of one job run as a deal, for the baseline");
    const job = await runLily(devnet.home, ["run", "cowsay@1.0.0", "-i", "message=gas", "--json"]);
    if (job.code !== 0) throw new Error(`lily run failed: ${job.stderr}`);
    const dealGasPerRequest = Number((await dealCost(bank, (JSON.parse(job.stdout) as { dealId: Hex }).dealId)).gas);

    // Last: it moves the chain's clock past the audit window.
    progress("gas of one lease's life on the devnet chain");
    const gas = await leaseGas(net.rpcUrl, addresses, bank);
    const perLease = gas.open + gas.close + gas.release;
    // Every answer of the run came under these leases; each costs one open, one close and one release.
    const gasPer1000 = (Number(perLease) * leasesUsed.size * 1000) / answered;
    const rows = [
      ["answer latency p50", ms(gw.p50), ms(alone.p50), ratio(gw.p50, alone.p50)],
      ["answer latency p99", ms(gw.p99), ms(alone.p99), ratio(gw.p99, alone.p99)],
      ["gateway overhead p50 (gateway - executor)", ms(gw.p50 - alone.p50), "", ""],
      ["time to first token p50", ms(gw.ttft), ms(alone.ttft), ratio(gw.ttft, alone.ttft)],
      ["tokens/s per answer p50", int(gw.tokensPerSecond), int(alone.tokensPerSecond), ratio(gw.tokensPerSecond, alone.tokensPerSecond)],
      [`requests/s, ${CLIENTS} streaming clients vs 1`, many.perSecond.toFixed(1), single.perSecond.toFixed(1), ratio(many.perSecond, single.perSecond)],
      [`failed requests under ${CLIENTS} clients`, int(many.failed), int(single.failed), ""],
      ["gas per 1,000 requests: leases vs a deal each", int(gasPer1000), int(dealGasPerRequest * 1000), ratio(gasPer1000, dealGasPerRequest * 1000)],
      ["  one lease: open + close + release", `${int(gas.open)} + ${int(gas.close)} + ${int(gas.release)}`, "", ""],
    ];
    if (o.json)
      console.log(
        JSON.stringify(
          { gateway: gw, executor: alone, single, many, gas: { ...gas, per1000: gasPer1000, leasesUsed: leasesUsed.size, answered } },
          (_k, v) => (typeof v === "bigint" ? v.toString() : v),
          2,
        ),
      );
    else {
      console.log(`Anura: gateway vs the model executor alone (tiny GGUF, ${MAX_TOKENS} tokens per answer, ${N} answers each way)`);
      console.log(table(["measure", "gateway", "baseline", "ratio"], rows));
      console.log(`${answered} answers in all through ${leasesUsed.size} lease(s).`);
    }
  } finally {
    await devnet.stop();
  }
}

main().catch(async (e) => {
  console.error(e);
  await stopAll();
  process.exit(1);
});
