// The provider's config file: amounts in LILY become wei, and every mistake is refused naming the
// field and the file (a typo in a key included), so an operator never runs on terms it did not mean.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseEther } from "viem";
import { isLilyError } from "@lily/protocol";
import { configRates, parseProviderConfig, readProviderConfig } from "../src/config.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

test("a full config reads amounts in LILY as wei, strings and numbers alike", () => {
  const c = parseProviderConfig(
    {
      resources: { cpu: 2, memoryMb: 2048 },
      price: "1.5",
      prices: { ocr: "0.5", "chess@1.0.0": 2 },
      pricePerSecond: { cpu: "0.001", memoryGb: "0.0005" },
      collateral: 5,
      modules: { allow: ["ocr", "chess"], deny: ["chess@0.9.0"] },
      allowNetwork: true,
      maxConcurrentJobs: 3,
      maxJobSeconds: 600,
      mediators: ["0x70997970c51812dc3a010c7d01b50e0d17dc79c8"],
    },
    "provider.json",
  );
  assert.equal(c.price, parseEther("1.5"));
  assert.deepEqual(c.prices, { ocr: parseEther("0.5"), "chess@1.0.0": parseEther("2") });
  assert.deepEqual(configRates(c), { cpuSecond: parseEther("0.001"), memoryGbSecond: parseEther("0.0005"), gpuSecond: 0n });
  assert.equal(c.collateral, parseEther("5"));
  assert.deepEqual(c.modules, { allow: ["ocr", "chess"], deny: ["chess@0.9.0"] });
  assert.equal(c.mediators![0], "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
});

test("an empty config is valid: flags and defaults decide everything", () => {
  assert.deepEqual(parseProviderConfig({}, "provider.json"), {});
});

const mistakes: [string, unknown, string][] = [
  ["a price that is not an amount", { prices: { ocr: "cheap" } }, "prices.ocr"],
  ["more than 18 decimals", { price: "0.0000000000000000001" }, "price"],
  ["a negative number", { collateral: -1 }, "collateral"],
  ["a misspelt key", { pric: "1" }, "pric"],
  ["a misspelt nested key", { resources: { cpus: 2 } }, "resources.cpus"],
  ["an unknown rate", { pricePerSecond: { disk: "1" } }, "pricePerSecond.disk"],
  ["a fractional job count", { maxConcurrentJobs: 1.5 }, "maxConcurrentJobs"],
  ["zero concurrent jobs", { maxConcurrentJobs: 0 }, "maxConcurrentJobs"],
  ["a deny-list that is not a list", { modules: { deny: "ocr" } }, "modules.deny"],
  ["a mediator that is not an address", { mediators: ["0x12"] }, "mediators.0"],
  ["allowNetwork as a string", { allowNetwork: "yes" }, "allowNetwork"],
];

for (const [what, value, field] of mistakes) {
  test(`${what} is refused naming ${field}`, () => {
    assert.throws(
      () => parseProviderConfig(value, "provider.json"),
      (e) => isLilyError(e, "CONFIG") && e.field === field && e.message.startsWith(`provider.json: ${field}: `),
    );
  });
}

test("a file that is not JSON is refused naming the file; a missing one naming --config", () => {
  const dir = tempDir("lily-provider-config-");
  const path = join(dir, "provider.json");
  writeFileSync(path, "{ price: 1 }");
  assert.throws(
    () => readProviderConfig(path),
    (e) => isLilyError(e, "CONFIG") && e.field === path,
  );
  assert.throws(
    () => readProviderConfig(join(dir, "missing.json")),
    (e) => isLilyError(e, "CONFIG") && e.field === "--config",
  );
  writeFileSync(path, JSON.stringify({ price: "2" }));
  assert.equal(readProviderConfig(path).price, parseEther("2"));
});
