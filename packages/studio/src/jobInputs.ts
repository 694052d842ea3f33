// From a module's input schema to a form and back: the form's starting values (the schema's
// defaults) and the job's typed inputs from what was typed (numbers as numbers, empty optional
// fields left out so the module's defaults apply).
import type { InputSpec } from "./gateway.ts";

export type FormValues = Record<string, string | boolean>;

export function initialValues(inputs: Record<string, InputSpec>): FormValues {
  return Object.fromEntries(
    Object.entries(inputs).map(([name, f]) => [name, f.type === "boolean" ? f.default === true : f.default === undefined ? "" : String(f.default)]),
  );
}

export function jobInputs(inputs: Record<string, InputSpec>, values: FormValues): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [name, f] of Object.entries(inputs)) {
    const v = values[name];
    if (f.type === "boolean") out[name] = v === true;
    else if (typeof v === "string" && v !== "") out[name] = f.type === "integer" || f.type === "number" ? Number(v) : v;
  }
  return out;
}
