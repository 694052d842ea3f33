// A strict reader of the Prometheus text exposition format for the tests: every sample must
// belong to a family declared by a TYPE line, label values are unescaped, values parsed as
// numbers. What a scraper would refuse, this throws on.

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromText {
  types: Map<string, string>;
  samples: PromSample[];
  /** The value of the one sample of `name` with exactly these labels (undefined if absent). */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

export function parsePrometheus(text: string): PromText {
  const types = new Map<string, string>();
  const samples: PromSample[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (line === "") continue;
    if (line.startsWith("# HELP ")) continue;
    if (line.startsWith("# TYPE ")) {
      const [, , name, type] = line.split(" ");
      if (!name || !["counter", "gauge", "histogram", "summary", "untyped"].includes(type ?? "")) throw new Error(`line ${i + 1}: bad TYPE: ${line}`);
      if (types.has(name)) throw new Error(`line ${i + 1}: ${name} declared twice`);
      types.set(name, type!);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`line ${i + 1}: not a sample: ${line}`);
    const [, name, labelText, valueText] = m as unknown as [string, string, string | undefined, string];
    const family = [...types.keys()].find((f) => name === f || (types.get(f) === "histogram" && [`${f}_bucket`, `${f}_sum`, `${f}_count`].includes(name)));
    if (!family) throw new Error(`line ${i + 1}: ${name} has no TYPE line before it`);
    const labels: Record<string, string> = {};
    if (labelText) {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < labelText.length) {
        const l = LABEL.exec(labelText);
        if (!l) throw new Error(`line ${i + 1}: bad labels: ${labelText}`);
        labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
      }
    }
    const value = valueText === "+Inf" ? Infinity : Number(valueText);
    if (Number.isNaN(value)) throw new Error(`line ${i + 1}: bad value ${valueText}`);
    samples.push({ name, labels, value });
  }
  const same = (a: Record<string, string>, b: Record<string, string>) =>
    Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);
  return { types, samples, value: (name, labels = {}) => samples.find((s) => s.name === name && same(s.labels, labels))?.value };
}
