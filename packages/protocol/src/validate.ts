// Boundary validation: parse unknown data with a zod schema and turn the first issue into a
// LilyError naming the field, so "bad input" always says which field and never changes state.
import type * as z from "zod";
import { LilyError } from "./errors.ts";

export function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = issue.path.map(String).join(".");
  const field = path ? `${what}.${path}` : what;
  throw new LilyError({ code: "INVALID_INPUT", field, message: `${field}: ${issue.message}` });
}
