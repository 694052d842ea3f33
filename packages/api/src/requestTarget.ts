// The request line's target, split into a path and a decoded query. Decoding is strict: where
// URLSearchParams would quietly turn `%E0%A4%A` into U+FFFD, this refuses it naming the parameter,
// so a schema never validates a value the client did not send.
import { LilyError } from "@lily/protocol";

export interface RequestTarget {
  /** Still percent-encoded: path params are decoded one by one (`matchPath`). */
  pathname: string;
  query: Record<string, string>;
}

const invalid = (field: string, message: string) => new LilyError({ code: "INVALID_INPUT", field, message: `${field}: ${message}` });

/** Parse `req.url`: origin-form (`/v1/deals?x=1`) or absolute-form (`http://host/v1/deals`). */
export function parseTarget(url: string | undefined): RequestTarget {
  let target = url ?? "/";
  if (!target.startsWith("/")) {
    if (!URL.canParse(target)) throw invalid("url", "not a path or an absolute URL");
    const u = new URL(target);
    target = u.pathname + u.search;
  }
  const q = target.indexOf("?");
  if (q < 0) return { pathname: target, query: {} };
  return { pathname: target.slice(0, q), query: parseQuery(target.slice(q + 1)) };
}

/** `a=1&b=x+y` → `{ a: "1", b: "x y" }`; the last of repeated names wins. */
export function parseQuery(search: string): Record<string, string> {
  const entries: [string, string][] = [];
  for (const pair of search.split("&")) {
    if (!pair) continue;
    const eq = pair.indexOf("=");
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const name = decodeComponent(rawName);
    if (name === undefined) throw invalid("query", `parameter name ${JSON.stringify(rawName.slice(0, 64))} is not valid percent-encoding`);
    const value = decodeComponent(eq < 0 ? "" : pair.slice(eq + 1));
    if (value === undefined) throw invalid(`query.${name}`, "not valid percent-encoding");
    entries.push([name, value]);
  }
  return Object.fromEntries(entries);
}

function decodeComponent(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replaceAll("+", " "));
  } catch {
    return undefined;
  }
}
