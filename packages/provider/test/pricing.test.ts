// Which modules a provider offers and at what price: the deny-list wins over the allow-list, a
// module's own price over the resource-second rates over the default, the most specific selector
// (CID, then name@version, then name) over the others; one resource offer per distinct price.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_MODULES } from "@lily/protocol";
import { planOffers, resourcePrice, type ModuleInfo, type ModuleTerms } from "../src/pricing.ts";

const mod = (name: string, version = "1.0.0", o: Partial<ModuleInfo> = {}): ModuleInfo => ({
  cid: `cid-${name}-${version}`,
  name,
  version,
  executor: "wasm",
  network: false,
  resources: { cpu: 1, memoryMb: 512, gpu: 0, timeoutSeconds: 60 },
  ...o,
});

const ocr = mod("ocr", "1.0.0", { executor: "docker" });
const ocr2 = mod("ocr", "2.0.0", { executor: "docker" });
const chess = mod("chess", "1.0.0", { executor: "docker", resources: { cpu: 2, memoryMb: 1024, gpu: 0, timeoutSeconds: 30 } });
const crawler = mod("crawler", "1.0.0", { executor: "docker", network: true });
const cowsay = mod("cowsay");
const all = [ocr, ocr2, chess, crawler, cowsay];

const price = (terms: Omit<ModuleTerms, "price">, m: ModuleInfo) =>
  planOffers(all, { price: 100n, ...terms }).offered.find((p) => p.module.cid === m.cid)?.price;
const offeredNames = (terms: Omit<ModuleTerms, "price">) =>
  planOffers(all, { price: 100n, ...terms })
    .offered.map((p) => `${p.module.name}@${p.module.version}`)
    .sort();

const lists: [string, Omit<ModuleTerms, "price">, string[]][] = [
  ["with no lists every module but the networked one is offered", {}, ["chess@1.0.0", "cowsay@1.0.0", "ocr@1.0.0", "ocr@2.0.0"]],
  ["allowNetwork lets the networked module in", { allowNetwork: true }, ["chess@1.0.0", "cowsay@1.0.0", "crawler@1.0.0", "ocr@1.0.0", "ocr@2.0.0"]],
  ["an allow-list by name takes every version", { allow: ["ocr"] }, ["ocr@1.0.0", "ocr@2.0.0"]],
  ["an allow-list by name@version takes that version", { allow: ["ocr@2.0.0", "chess"] }, ["chess@1.0.0", "ocr@2.0.0"]],
  ["an allow-list by CID takes that module", { allow: [cowsay.cid] }, ["cowsay@1.0.0"]],
  ["the deny-list wins over the allow-list", { allow: ["ocr", "chess"], deny: ["ocr@1.0.0"] }, ["chess@1.0.0", "ocr@2.0.0"]],
  ["a deny by name removes every version", { deny: ["ocr"] }, ["chess@1.0.0", "cowsay@1.0.0"]],
  ["a networked module stays out when allowed by name but not by allowNetwork", { allow: ["crawler"] }, []],
  ["without a Docker executor container modules are not offered", { executors: ["wasm"] }, ["cowsay@1.0.0"]],
];

for (const [name, terms, expected] of lists) test(name, () => assert.deepEqual(offeredNames(terms), expected));

test("each refused module says why", () => {
  const plan = planOffers(all, { price: 1n, allow: ["ocr", "crawler", "cowsay"], deny: ["ocr@2.0.0"], executors: ["wasm", "docker"] });
  assert.deepEqual(
    plan.refused.map((r) => r.why),
    [
      "ocr@2.0.0 is denied (ocr@2.0.0)",
      "chess@1.0.0 is not in the allow-list",
      "crawler@1.0.0 asks for the network, and this provider does not allow networked modules",
    ],
  );
});

const prices: [string, Omit<ModuleTerms, "price">, ModuleInfo, bigint][] = [
  ["a module with no price of its own costs the default", {}, cowsay, 100n],
  ["a price by name applies to every version", { prices: { ocr: 7n } }, ocr2, 7n],
  ["name@version wins over name", { prices: { ocr: 7n, "ocr@2.0.0": 9n } }, ocr2, 9n],
  ["the CID wins over name@version", { prices: { [ocr2.cid]: 11n, "ocr@2.0.0": 9n, ocr: 7n } }, ocr2, 11n],
  ["a module's own price wins over the rates", { prices: { chess: 5n }, rates: { cpuSecond: 1n, memoryGbSecond: 1n, gpuSecond: 1n } }, chess, 5n],
  // 30 s × (2 CPU × 3 + 1024/1024 GiB × 10 + 0 GPU × 1000) = 30 × 16
  ["the rates price a module by its resources × its timeout", { rates: { cpuSecond: 3n, memoryGbSecond: 10n, gpuSecond: 1000n } }, chess, 480n],
];

for (const [name, terms, m, expected] of prices) test(name, () => assert.equal(price(terms, m), expected));

test("resource-seconds round a fraction of a wei up, never down", () => {
  // 60 s × 512 MiB at 1 wei per GiB-second is 30 wei exactly; at 3 wei, 90; at 1 wei for 100 MiB, 5.86 → 6.
  const r = { cpu: 0, memoryMb: 100, gpu: 0, timeoutSeconds: 60 };
  assert.equal(resourcePrice(r, { cpuSecond: 0n, memoryGbSecond: 1n, gpuSecond: 0n }), 6n);
  assert.equal(resourcePrice({ ...r, memoryMb: 512 }, { cpuSecond: 0n, memoryGbSecond: 3n, gpuSecond: 0n }), 90n);
  assert.equal(
    resourcePrice({ cpu: 1, memoryMb: 0, gpu: 2, timeoutSeconds: 10 }, { cpuSecond: 5n, memoryGbSecond: 0n, gpuSecond: 7n }),
    10n * 5n + 10n * 2n * 7n,
  );
});

test("modules at the same price share one resource offer; each distinct price gets its own, cheapest first", () => {
  const plan = planOffers(all, { price: 100n, prices: { ocr: 5n, chess: 5n, cowsay: 1n } });
  assert.deepEqual(plan.groups, [
    { price: 1n, modules: [cowsay.cid] },
    { price: 5n, modules: [chess.cid, ocr.cid, ocr2.cid].sort() },
  ]);
});

test("more modules at one price than an offer may list are split over several offers", () => {
  const many = Array.from({ length: MAX_MODULES + 3 }, (_, i) => mod(`m${i}`));
  const plan = planOffers(many, { price: 1n });
  assert.deepEqual(
    plan.groups.map((g) => g.modules.length),
    [MAX_MODULES, 3],
  );
  assert.equal(new Set(plan.groups.flatMap((g) => g.modules)).size, MAX_MODULES + 3);
});

test("a selector that names no known module is reported, so a typo is seen", () => {
  const plan = planOffers(all, { price: 1n, allow: ["ocr", "orc"], prices: { chesss: 1n } });
  assert.deepEqual(plan.unmatched, ["orc", "chesss"]);
});
