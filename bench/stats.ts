// Small numeric and formatting helpers for the benchmark: percentiles, ratios, a plain table.

/** The q-quantile (0..1) of the values, linearly interpolated between closest ranks. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export const median = (values: number[]) => quantile(values, 0.5);

export const ms = (v: number) => (Number.isFinite(v) ? `${Math.round(v).toLocaleString("en")} ms` : "n/a");
export const int = (v: number | bigint) => Number(v).toLocaleString("en", { maximumFractionDigits: 0 });
export function ratio(a: number, b: number): string {
  if (!(b > 0) || !Number.isFinite(a)) return "n/a";
  const r = a / b;
  return `${r.toFixed(r >= 10 ? 1 : r >= 0.1 ? 2 : 3)}x`;
}
export const mib = (kib: number | undefined) => (kib === undefined ? "n/a" : `${(kib / 1024).toFixed(0)} MiB`);

/** A table as aligned plain text, first column left-aligned, the others right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** Progress goes to stderr so stdout carries only the result. */
export function progress(text: string): void {
  process.stderr.write(`[bench] ${text}\n`);
}

/**
 * A reader of integer options: `count(name, value, min)` returns the integer, or prints
 * `error: --name: ...` and the usage and exits 2 (every bench's command line, the same way).
 */
export function countOption(usage: string): (name: string, v: string, min: number) => number {
  return (name, v, min) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) {
      process.stderr.write(`error: --${name}: expected an integer >= ${min}, got ${v}\n${usage}\n`);
      process.exit(2);
    }
    return n;
  };
}
