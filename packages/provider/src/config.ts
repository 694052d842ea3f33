// The provider's config file (`lily provider --config provider.json`): the richer way to set what
// the flags set, and what no flag can say: prices per module or per resource-second, an allow-list
// and a deny-list of modules, whether networked container modules may run, how many jobs may run
// at once. JSON, validated here; an error names the file and the field. Amounts are in LILY, as
// strings ("0.5") or numbers, like the flags.
//
// {
//   "resources": { "cpu": 4, "memoryMb": 8192 },        // at most this much (default: all detected)
//   "price": "1",                                       // per job, for modules with no other price
//   "prices": { "ocr": "0.5", "chess@1.0.0": "2", "bafy…": "3" },
//   "pricePerSecond": { "cpu": "0.001", "memoryGb": "0.0005", "gpu": "0.01" },
//   "collateral": "5",
//   "modules": { "allow": ["ocr", "chess"], "deny": ["faces@1.0.0"] },
//   "allowNetwork": false,
//   "maxConcurrentJobs": 4,
//   "maxJobSeconds": 3600, "maxOpenDelaySeconds": 600, "mediators": ["0x…"]
// }
import { readFileSync } from "node:fs";
import { parseUnits } from "viem";
import * as z from "zod";
import { LilyError, address } from "@lily/protocol";
import type { ResourceRates } from "./pricing.ts";

/** An amount of LILY (up to 18 decimals), to wei. */
const lily = z
  .union([z.string(), z.number().nonnegative()])
  .transform((v) => (typeof v === "number" ? v.toString() : v))
  .refine((s) => /^\d+(\.\d{1,18})?$/.test(s), "expected an amount of LILY like 10 or 0.5")
  .transform((s) => parseUnits(s, 18));

/** A module: its manifest CID, name@version, or name (every version). */
const selector = z.string().min(1).max(200);

const count = z.number().int().nonnegative();

export const ProviderConfig = z
  .object({
    resources: z.object({ cpu: count, memoryMb: count, gpu: count, vramMb: count }).partial().strict().optional(),
    price: lily.optional(),
    prices: z.record(selector, lily).optional(),
    pricePerSecond: z
      .object({ cpu: lily.default(0n), memoryGb: lily.default(0n), gpu: lily.default(0n) })
      .strict()
      .optional(),
    collateral: lily.optional(),
    modules: z
      .object({ allow: z.array(selector).optional(), deny: z.array(selector).default([]) })
      .strict()
      .optional(),
    allowNetwork: z.boolean().optional(),
    maxConcurrentJobs: z.number().int().positive().optional(),
    maxJobSeconds: z.number().int().positive().optional(),
    maxOpenDelaySeconds: z.number().int().positive().optional(),
    mediators: z.array(address).optional(),
  })
  .strict();

export type ProviderConfig = z.infer<typeof ProviderConfig>;

/** The config's per-resource-second prices as pricing.ts takes them. */
export function configRates(c: ProviderConfig): ResourceRates | undefined {
  const p = c.pricePerSecond;
  return p && { cpuSecond: p.cpu, memoryGbSecond: p.memoryGb, gpuSecond: p.gpu };
}

/** Validate a parsed config; an error names the field (`prices.ocr`) and, in its message, `source` (the file). */
export function parseProviderConfig(value: unknown, source: string): ProviderConfig {
  const r = ProviderConfig.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  // An unknown key is named itself (a typo the operator must see), not its parent object.
  const path = [...issue.path.map(String), ...(issue.code === "unrecognized_keys" ? [issue.keys[0]!] : [])];
  const field = path.join(".") || "(the whole file)";
  const message = issue.code === "unrecognized_keys" ? "is not a provider config field" : issue.message;
  throw new LilyError({
    code: "CONFIG",
    field,
    message: `${source}: ${field}: ${message}`,
    hint: 'the fields are listed under "Config file" in packages/provider/README.md',
    details: { file: source },
  });
}

export function readProviderConfig(path: string): ProviderConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new LilyError({ code: "CONFIG", field: "--config", message: `--config: cannot read ${path}`, cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new LilyError({ code: "CONFIG", field: path, message: `${path}: not JSON (${(e as Error).message})`, cause: e });
  }
  return parseProviderConfig(json, path);
}
