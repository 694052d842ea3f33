// `lily run --dry-run` against a real network served from this process (anvil with Lily
// deployed, a store holding cowsay, a solver with three providers' offers): for each provider the
// filter that would reject the job and why, the candidates, the clearing price and what would
// match, exit 0, and nothing signed, posted or locked.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, parseEther, toHex, type LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createLilyClient, deployLily, deposit, devAccounts, fundAccount, startAnvil, type Anvil } from "@lily/chain";
import { createClient, solverRoutes } from "@lily/api";
import { createLogger } from "@lily/node-kit";
import { startStore, defaultStoreOptions, StoreClient } from "@lily/store";
import { startSolver, defaultSolverOptions } from "@lily/solver";
import { loadCatalog } from "@lily/modules";
import { cidForBytes, signRecord, type ResourceOffer } from "@lily/protocol";
import { roleAccount } from "../src/keys.ts";
import { lilyAsync, tempHome } from "./lilyProcess.ts";

const key = (name: string) => privateKeyToAccount(keccak256(toHex(`lily cli dry run: ${name}`)));
const [cheap, wrongModule, dear] = [key("cheap"), key("wrong module"), key("dear")];
const mediator = key("mediator").address;
let anvil: Anvil;
let home: string;
let stop: () => Promise<void>;
let solver: ReturnType<typeof createClient<typeof solverRoutes>>;

before(async () => {
  const logger = createLogger({ module: "test", level: "error" });
  const dir = mkdtempSync(join(tmpdir(), "lily-cli-dry-run-"));
  anvil = await startAnvil({ blockTimeSeconds: 1 });
  const addresses = await deployLily({ rpcUrl: anvil.rpcUrl, deployerKey: devAccounts[0]!, supply: parseEther("1000000") });
  const client = (a: LocalAccount) => createLilyClient({ rpcUrl: anvil.rpcUrl, account: a, addresses, pollingIntervalMs: 20 });
  const deployer = client(privateKeyToAccount(devAccounts[0]!));
  // The job creator's key, as `lily run` will load it from this home; funded so the solver backs its offers.
  home = tempHome();
  const jobCreator = roleAccount(home, "job-creator");
  const funded = [cheap, wrongModule, dear, jobCreator];
  for (const p of funded) await fundAccount(deployer, { to: p.address, eth: parseEther("1"), tokens: parseEther("100") });
  await Promise.all(funded.map((p) => deposit(client(p), { amount: parseEther("100") })));

  const storeServer = await startStore({ ...defaultStoreOptions, dataDir: join(dir, "blocks") }, { logger });
  const store = new StoreClient(storeServer.url);
  const cowsay = loadCatalog().find((e) => e.ref === "cowsay@1.0.0")!;
  const module = await store.putRecordBytes(cowsay.manifestBytes);
  const domain = { chainId: addresses.chainId, verifyingContract: addresses.deals };
  const solverServer = await startSolver(
    { ...defaultSolverOptions, dbPath: join(dir, "solver.db"), domain, token: addresses.token, rpcUrl: anvil.rpcUrl, deployBlock: addresses.deployBlock },
    { logger },
  );
  solver = createClient(solverServer.url, solverRoutes);
  const offers: [LocalAccount, Partial<ResourceOffer>][] = [
    [cheap, { price: parseEther("3"), collateral: parseEther("5") }],
    [wrongModule, { price: parseEther("1"), modules: [cidForBytes(new TextEncoder().encode("another module"))] }],
    [dear, { price: parseEther("12"), collateral: parseEther("50") }],
  ];
  for (const [p, o] of offers) {
    const offer: ResourceOffer = {
      provider: p.address,
      cpu: 4,
      memoryMb: 4096,
      gpu: 0,
      vramMb: 0,
      price: 0n,
      collateral: parseEther("5"),
      modules: [module],
      mediators: [mediator],
      expiresAt: BigInt(Math.floor(Date.now() / 1000) + 3600),
      nonce: 1n,
      ...o,
    };
    await solver.postResourceOffer({ body: { offer, signature: await signRecord(p, domain, "ResourceOffer", offer) } });
  }
  writeFileSync(
    join(home, "network.json"),
    JSON.stringify({
      rpcUrl: anvil.rpcUrl,
      chainId: addresses.chainId,
      token: addresses.token,
      deals: addresses.deals,
      deployBlock: addresses.deployBlock,
      solverUrl: solverServer.url,
      storeUrl: storeServer.url,
      modules: { "cowsay@1.0.0": module },
      mediators: [mediator],
    }),
  );
  stop = async () => {
    await solverServer.close();
    await storeServer.close();
    await anvil.stop();
  };
});
after(() => stop?.());

const line = (label: string, rest: string) => new RegExp(`^${label.padEnd(12)}${rest}$`, "m");
const nothingPosted = async () => assert.deepEqual((await solver.listDeals({})).deals, [], "no deal proposed: nothing was posted");

test("lily run --dry-run names, for each provider, the filter that rejects the job and why, and what would match", async () => {
  const r = await lilyAsync(home, "run", "cowsay@1.0.0", "-i", "message=hi", "--max-price", "10", "--policy", "audit:10%", "--dry-run");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^dry run: nothing was signed, posted or locked$/m);
  assert.match(r.stdout, line("provider", `${cheap.address}  rejects it: policy: .*cheating would pay.*`));
  assert.match(r.stdout, line("provider", `${wrongModule.address}  rejects it: module: .*`));
  assert.match(r.stdout, line("provider", `${dear.address}  rejects it: price: .*`));
  assert.match(r.stdout, line("matchable", "no: .*"));
  // 3 LILY at 5 LILY collateral needs audit:60%; the dear provider's 50 LILY backs 12 LILY at 24%, above max price.
  assert.match(r.stdout, line("would match", "--policy audit:60%"));
  assert.match(r.stdout, line("deposit", "100 LILY free, the job needs 11 LILY"));
  await nothingPosted();
});

test("lily run --dry-run lists the candidates and the clearing price when the job would match now", async () => {
  const r = await lilyAsync(home, "run", "cowsay@1.0.0", "-i", "message=hi", "--max-price", "10", "--dry-run");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, line("provider", `${cheap.address}  would take it at 3 LILY \\(collateral 5 LILY\\)`));
  assert.match(r.stdout, line("clearing", "3 LILY"));
  assert.match(r.stdout, line("matchable", "yes: the solver would propose a deal now"));
  assert.doesNotMatch(r.stdout, /would match/);
  await nothingPosted();
});

test("lily run --dry-run --json prints the explanation as one JSON document", async () => {
  const r = await lilyAsync(home, "run", "cowsay@1.0.0", "-i", "message=hi", "--max-price", "2", "--dry-run", "--json");
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { matchable: boolean; clearingPrice: string; hints: string[]; candidates: unknown[]; rejections: Record<string, string> };
  assert.deepEqual([doc.matchable, doc.clearingPrice, doc.hints, doc.candidates], [false, parseEther("3").toString(), ["--max-price 3"], []]);
  assert.match(doc.rejections[cheap.address] ?? "", /^price: /);
  await nothingPosted();
});
