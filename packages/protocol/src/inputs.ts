// Job inputs checked against a module's input schema. Both the job creator (before paying) and
// the provider (before running) call this, so a malformed input is refused on both sides with
// the same error naming the field.
import { LilyError } from "./errors.ts";
import type { InputField, ModuleManifest } from "./module.ts";
import { isCid } from "./cid.ts";

export type InputValue = string | number | boolean;
export type Inputs = Record<string, InputValue>;

function bad(name: string, message: string): LilyError {
  return new LilyError({ code: "INVALID_INPUT", field: `inputs.${name}`, message: `inputs.${name}: ${message}` });
}

/** Convert a raw CLI string to the field's type. File inputs stay as given (a path or a CID). */
export function coerceInput(name: string, field: InputField, rawValue: string): InputValue {
  switch (field.type) {
    case "integer": {
      if (!/^-?\d+$/.test(rawValue)) throw bad(name, `expected an integer, got "${rawValue}"`);
      return Number(rawValue);
    }
    case "number": {
      const n = Number(rawValue);
      if (rawValue.trim() === "" || !Number.isFinite(n)) throw bad(name, `expected a number, got "${rawValue}"`);
      return n;
    }
    case "boolean": {
      if (rawValue !== "true" && rawValue !== "false") throw bad(name, `expected true or false, got "${rawValue}"`);
      return rawValue === "true";
    }
    default:
      return rawValue;
  }
}

/**
 * Check a complete inputs record against the manifest: no unknown names, required ones present,
 * types and bounds respected, file inputs given as CIDs. Fills defaults. Returns a new record.
 */
export function validateInputs(manifest: Pick<ModuleManifest, "inputs" | "required">, inputs: Record<string, unknown>): Inputs {
  const out: Inputs = {};
  for (const name of Object.keys(inputs)) {
    if (!(name in manifest.inputs)) {
      const known = Object.keys(manifest.inputs).join(", ") || "none";
      throw bad(name, `unknown input (this module takes: ${known})`);
    }
  }
  for (const [name, field] of Object.entries(manifest.inputs)) {
    let v = inputs[name];
    if (v === undefined) {
      if (field.default !== undefined) v = field.default;
      else if (manifest.required.includes(name)) throw bad(name, "is required");
      else continue;
    }
    switch (field.type) {
      case "string":
        if (typeof v !== "string") throw bad(name, `expected a string, got ${typeof v}`);
        if (field.maxLength !== undefined && v.length > field.maxLength) throw bad(name, `longer than ${field.maxLength} characters`);
        break;
      case "file":
        if (typeof v !== "string" || !isCid(v)) throw bad(name, "expected the CID of an uploaded file");
        break;
      case "integer":
      case "number":
        if (typeof v !== "number" || !Number.isFinite(v)) throw bad(name, `expected a number, got ${typeof v}`);
        if (field.type === "integer" && !Number.isInteger(v)) throw bad(name, `expected an integer, got ${v}`);
        if (field.minimum !== undefined && v < field.minimum) throw bad(name, `must be >= ${field.minimum}`);
        if (field.maximum !== undefined && v > field.maximum) throw bad(name, `must be <= ${field.maximum}`);
        break;
      case "boolean":
        if (typeof v !== "boolean") throw bad(name, `expected a boolean, got ${typeof v}`);
        break;
    }
    if (field.enum && !field.enum.includes(v as string | number)) throw bad(name, `must be one of ${field.enum.map((e) => JSON.stringify(e)).join(", ")}`);
    out[name] = v as InputValue;
  }
  return out;
}
