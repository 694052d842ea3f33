// Requests per minute per API key, as a token bucket in memory: a key may burst up to its rpm, then
// gets one request every 60/rpm seconds. Counted in integers (one request = 60,000 units, a key
// earns rpm units per millisecond), so "retry after n seconds" is exact: at that time the request
// is let through. One bucket per key; a restart refills them, at worst one extra minute's burst.
import { LilyError } from "@lily/protocol";

export interface RateLimiter {
  /** Take one request from the key's bucket, or throw RATE_LIMITED with `details.retryAfterSeconds` (an integer, at least 1). */
  checkRate(keyId: string, rpm: number, now: number): void;
}

const REQUEST = 60_000;

export function createRateLimiter(): RateLimiter {
  const buckets = new Map<string, { units: number; at: number }>();
  return {
    checkRate(keyId, rpm, now) {
      const capacity = rpm * REQUEST;
      const bucket = buckets.get(keyId) ?? { units: capacity, at: now };
      const elapsed = Math.max(0, Math.floor(now - bucket.at));
      const units = Math.min(capacity, bucket.units + elapsed * rpm);
      const at = Math.max(bucket.at, Math.floor(now));
      // REJECT: the key has used its requests for this minute
      if (units < REQUEST) {
        buckets.set(keyId, { units, at });
        const retryAfterSeconds = Math.max(1, Math.ceil(Math.ceil((REQUEST - units) / rpm) / 1000));
        throw new LilyError({
          code: "RATE_LIMITED",
          field: "authorization",
          message: `Rate limit reached for key ${keyId}: ${rpm} requests per minute. Try again in ${retryAfterSeconds}s.`,
          details: { keyId, rpm, retryAfterSeconds },
        });
      }
      buckets.set(keyId, { units: units - REQUEST, at });
    },
  };
}
