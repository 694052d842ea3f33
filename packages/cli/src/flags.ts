// Flag parsing that fails with the flag's name, never with a stack trace.
import { LilyError, type InputValue } from "@lily/protocol";
import { parseUnits } from "viem";

export function intOption(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new LilyError({ code: "INVALID_INPUT", field: flag, message: `${flag}: expected a non-negative integer, got "${value}"` });
  return Number(value);
}

/** Token amounts are given in LILY (decimal, 18 decimals), e.g. `--max-price 2.5`. */
export function tokenOption(value: string, flag: string): bigint {
  if (!/^\d+(\.\d{1,18})?$/.test(value))
    throw new LilyError({ code: "INVALID_INPUT", field: flag, message: `${flag}: expected an amount of LILY like 10 or 0.5, got "${value}"` });
  return parseUnits(value, 18);
}

/** Seconds from `30`, `30s`, `5m`, `1h`. */
export function durationOption(value: string, flag: string): number {
  const m = /^(\d+)(s|m|h)?$/.exec(value);
  if (!m) throw new LilyError({ code: "INVALID_INPUT", field: flag, message: `${flag}: expected a duration like 90, 90s, 5m or 1h, got "${value}"` });
  return Number(m[1]) * ({ s: 1, m: 60, h: 3600 } as const)[(m[2] ?? "s") as "s" | "m" | "h"];
}

/** An http(s) URL, e.g. `--also-solver http://10.0.0.3:7100`. */
export function urlOption(value: string, flag: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {}
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:"))
    throw new LilyError({ code: "INVALID_INPUT", field: flag, message: `${flag}: expected an http(s) URL like http://10.0.0.3:7100, got "${value}"` });
  return value;
}

/** A share as basis points, from `5%` or `0.05`. */
export function bpsOption(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(value.trim());
  const bps = m ? Math.round(Number(m[1]) * (m[2] ? 100 : 10_000)) : Number.NaN;
  if (!Number.isInteger(bps) || bps < 0 || bps > 10_000) {
    throw new LilyError({ code: "INVALID_INPUT", field: flag, message: `${flag}: expected a share from 0% to 100% like 5% or 0.05, got "${value}"` });
  }
  return bps;
}

/** `-i key=value`, repeatable. The value is kept as a string; the module's schema types it. */
export function collectInput(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq <= 0) {
    throw new LilyError({ code: "INVALID_INPUT", field: "-i", message: `-i ${value}: expected key=value (e.g. -i message="hello")` });
  }
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

export type RawInputs = Record<string, string>;
export type { InputValue };
