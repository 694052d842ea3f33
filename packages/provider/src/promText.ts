// The Prometheus text exposition format (version 0.0.4), just what the provider's /metrics needs:
// counters and gauges with labels, and cumulative histograms. One family per call, each with its
// HELP and TYPE lines; label values escaped as the format says.

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  labels?: Labels;
  value: number | bigint;
}

export function family(name: string, type: "counter" | "gauge", help: string, samples: readonly Sample[]): string {
  const lines = [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`];
  for (const s of samples) lines.push(`${name}${labelText(s.labels)} ${s.value.toString()}`);
  return `${lines.join("\n")}\n`;
}

/** A histogram of `observations` per label set, in the cumulative buckets `bounds` (ascending; +Inf is added). */
export function histogram(
  name: string,
  help: string,
  bounds: readonly number[],
  series: readonly { labels: Labels; observations: readonly number[] }[],
): string {
  const lines = [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} histogram`];
  for (const { labels, observations } of series) {
    for (const le of bounds) lines.push(`${name}_bucket${labelText({ ...labels, le: String(le) })} ${observations.filter((o) => o <= le).length}`);
    lines.push(`${name}_bucket${labelText({ ...labels, le: "+Inf" })} ${observations.length}`);
    lines.push(`${name}_sum${labelText(labels)} ${observations.reduce((a, b) => a + b, 0)}`);
    lines.push(`${name}_count${labelText(labels)} ${observations.length}`);
  }
  return `${lines.join("\n")}\n`;
}

function labelText(labels: Labels | undefined): string {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")}"`).join(",")}}`;
}

function escapeHelp(help: string): string {
  return help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}
