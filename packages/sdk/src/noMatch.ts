// The NO_MATCH error: nothing matched in time, and why each provider was filtered out.
import { LilyError } from "@lily/protocol";

/** Nothing matched in time: say why each provider was filtered out. Nothing was locked. */
export function noMatch(rejections: Record<string, string>): LilyError {
  const reasons = Object.entries(rejections).map(([who, why]) => (who === "*" ? why : `${who}: ${why}`));
  return new LilyError({
    code: "NO_MATCH",
    field: "jobOffer",
    message: `no provider matched the job${reasons.length ? ` (${reasons.join("; ")})` : " (no provider offers resources)"}`,
    hint: "no funds were locked; raise --max-price, or retry when a provider that fits is online",
    details: { rejections },
  });
}
