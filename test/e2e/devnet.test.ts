// End to end: `lily devnet` starts the real network (anvil, contracts, store, solver, two
// providers as separate processes); `lily run` sends real jobs through it. Assertions are on
// the output bytes and on the chain's balances.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseEther, type Address } from "viem";
import { createLilyClient, escrowBalance, tokenBalance, totalLocked } from "@lily/chain";
import { startDevnet, lily, type Devnet } from "./lilyProcess.ts";

let net: Devnet;
let chain: ReturnType<typeof createLilyClient>;

before(async () => {
  net = await startDevnet(["--sign-window", "5"]);
  chain = createLilyClient({ rpcUrl: net.network.rpcUrl, addresses: net.network });
});
after(() => net?.stop());

const escrow = (account: Address) => escrowBalance(chain, { account });
const providers = () => Object.entries(net.state.roles).filter(([n]) => n.startsWith("provider-"));

/** Every LILY in existence: wallets of all known accounts plus what the deals contract holds. */
async function accountedSupply(): Promise<bigint> {
  // The gateway holds tokens too, and the leases contract its and the providers' lease deposits.
  const holders = [
    net.state.jobCreator,
    ...providers().map(([, r]) => r.address!),
    net.state.roles.gateway!.address!,
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266" as Address,
    net.network.deals,
    net.network.leases,
  ];
  let sum = 0n;
  for (const h of holders) sum += await tokenBalance(chain, { account: h });
  return sum;
}

test("cowsay runs end to end: output bytes on disk, provider paid exactly the price", async () => {
  const jc = net.state.jobCreator;
  const [, p1] = providers()[0]!;
  const jcBefore = await escrow(jc);
  const p1Before = await escrow(p1.address!);

  const r = await lily(net.home, ["run", "cowsay@1.0.0", "-i", "message=hello", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.match(r.stderr, /matched provider/);
  assert.match(r.stderr, /result committed on chain/);
  const saved = readFileSync(join(result.outDir, "stdout"), "utf8");
  assert.equal(result.stdout, saved);
  assert.match(saved, /< hello >/);
  assert.match(saved, /\(oo\)/);

  // The cheapest provider (provider-1, 1 LILY) got the job.
  assert.equal(result.provider, p1.address);
  const price = BigInt(result.price);
  assert.equal(price, parseEther("1"));
  assert.equal(await escrow(jc), jcBefore - price, "job creator charged exactly the price");
  assert.equal(await escrow(p1.address!), p1Before + price, "provider paid exactly the price, collateral returned");
  assert.equal(await totalLocked(chain), 0n, "nothing left locked");
  assert.equal(await accountedSupply(), parseEther("1000000"), "token supply conserved");
});

test("a job on an input file runs real computation and saves its output files", async () => {
  const file = join(net.home, "words.txt");
  writeFileSync(file, "the cat and the hat\nthe end\n");
  const r = await lily(net.home, ["run", "wordcount@1.0.0", "-i", `file=${file}`, "-i", "top=2", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  const counts = JSON.parse(readFileSync(join(result.outDir, "wordcount.json"), "utf8"));
  assert.equal(counts.words, 7);
  assert.equal(counts.lines, 2);
  assert.deepEqual(counts.top[0], ["the", 3]);
});

const badInputs: { name: string; args: string[]; code: number; says: RegExp }[] = [
  { name: "an unknown module", args: ["run", "nosuch@1.0.0", "-i", "x=1"], code: 2, says: /unknown module "nosuch@1.0.0"/ },
  { name: "an input without =", args: ["run", "cowsay@1.0.0", "-i", "message"], code: 2, says: /-i message: expected key=value/ },
  { name: "an input of the wrong type", args: ["run", "primes@1.0.0", "-i", "n=many"], code: 2, says: /inputs\.n: expected an integer/ },
  { name: "an input the module does not take", args: ["run", "cowsay@1.0.0", "-i", "colour=red"], code: 2, says: /inputs\.colour: unknown input/ },
  { name: "a missing required input", args: ["run", "cowsay@1.0.0"], code: 2, says: /inputs\.message: is required/ },
  {
    name: "a max price above the deposit",
    args: ["run", "cowsay@1.0.0", "-i", "message=x", "--max-price", "5000"],
    code: 5,
    says: /escrow deposit .* is below maxPrice/,
  },
  {
    name: "a max price no provider accepts",
    args: ["run", "cowsay@1.0.0", "-i", "message=x", "--max-price", "0.5", "--match-timeout", "3s"],
    code: 6,
    says: /no provider matched the job.*price/,
  },
  { name: "a malformed max price", args: ["run", "cowsay@1.0.0", "-i", "message=x", "--max-price", "lots"], code: 2, says: /--max-price: expected an amount/ },
];

for (const c of badInputs) {
  test(`${c.name} is refused with a clear error and costs nothing`, async () => {
    const before = await escrow(net.state.jobCreator);
    const r = await lily(net.home, c.args);
    assert.equal(r.code, c.code, r.stderr);
    assert.match(r.stderr, c.says);
    assert.equal(
      r.stderr
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("error:")).length,
      1,
      "one error line",
    );
    assert.equal(await escrow(net.state.jobCreator), before);
    assert.equal(await totalLocked(chain), 0n);
  });
}

test("a provider killed mid-job is slashed after the deadline and the job creator refunded", async () => {
  const jc = net.state.jobCreator;
  const jcBefore = await escrow(jc);
  const [name, p1] = providers()[0]!;
  const p1Before = await escrow(p1.address!);
  let killed = false;
  const r = await lily(net.home, ["run", "primes@1.0.0", "-i", "n=2000000000", "--timeout", "6s", "--json"], {
    onStderr: (chunk) => {
      if (!killed && /running the job/.test(chunk)) {
        killed = true;
        process.kill(p1.pid, "SIGKILL");
      }
    },
  });
  assert.equal(killed, true, `${name} was never seen running the job:\n${r.stderr}`);
  assert.equal(r.code, 7, r.stderr);
  assert.match(r.stderr, /missed the deadline/);
  const collateral = parseEther("5");
  assert.equal(await escrow(jc), jcBefore + collateral, "job creator refunded the price and given the collateral");
  assert.equal(await escrow(p1.address!), p1Before - collateral, "provider slashed its collateral");
  assert.equal(await totalLocked(chain), 0n);
  assert.equal(await accountedSupply(), parseEther("1000000"));
});
