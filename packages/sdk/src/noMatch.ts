// The NO_MATCH error: the job creator gave up before anything was locked, why, each provider's
// reason for not matching and, when known, what would match.
import { LilyError } from "@lily/protocol";

export interface NoMatchWhy {
  /** Why the job creator gave up, e.g. "no provider matched before the match timeout". */
  reason?: string;
  /** What would match now, as the flags to change, e.g. "--max-price 3". */
  hints?: readonly string[];
}

export function noMatch(rejections: Record<string, string>, why: NoMatchWhy = {}): LilyError {
  const reasons = Object.entries(rejections).map(([who, r]) => (who === "*" ? r : `${who}: ${r}`));
  const reason = why.reason ?? "no provider matched the job";
  const hints = why.hints ?? [];
  return new LilyError({
    code: "NO_MATCH",
    field: "jobOffer",
    message: `${reason}${reasons.length ? ` (${reasons.join("; ")})` : ""}`,
    hint: hints.length
      ? `no funds were locked; this would match: ${hints.join(", ")}`
      : "no funds were locked; raise --max-price, or retry when a provider that fits is online",
    details: { rejections, ...(hints.length && { hints }) },
  });
}
