// When the provider asks the solver again whether it still holds its resource offers. It asked on
// every pass (each pollMs, a second by default): an idle provider made a request, a validation and
// a database read a second for an answer that only changes when something says so, and that
// steady work measured ~1.5 MiB of its idle RSS. What can take an offer away or make one due:
// - the solver's events: a deal of this provider rejected for want of its signature deactivates
//   its offers, and a reconnected subscription may be a solver restarted without them;
// - its own clock: an offer half-way to expiry is replaced (OfferKeeper.renewAt);
// - a module newly published in the registry, or a check that failed (the caller says so);
// - anything no event signals (an offer dropped by hand on the solver): a slow fallback.
// Checks stay at most one per pass interval, so under load (events all the time) nothing changes.

/** The longest the provider goes without checking its offers when nothing suggests they changed. */
export const OFFER_FALLBACK_MS = 30_000;

export class OfferSchedule {
  private readonly fallbackMs: number;
  /** When the last check started (ms). */
  private lastCheck = Number.NEGATIVE_INFINITY;
  /** Something said the offers may have changed since the last check started (start-up, an event, a failure). */
  private pending = true;
  /** When the offers the last check left are half-way to expiry (ms). */
  private renewAt = Number.NEGATIVE_INFINITY;

  constructor(fallbackMs = OFFER_FALLBACK_MS) {
    this.fallbackMs = fallbackMs;
  }

  /** The offers may have changed: the next pass checks them. */
  news(): void {
    this.pending = true;
  }

  /** Whether a check is due at `now`, at most one per `minGapMs`. */
  due(now: number, minGapMs: number): boolean {
    if (now - this.lastCheck < minGapMs) return false;
    return this.pending || now >= this.renewAt || now - this.lastCheck >= this.fallbackMs;
  }

  /** A check starts at `now`: news from now on asks for the next one. */
  started(now: number): void {
    this.lastCheck = now;
    this.pending = false;
  }

  /** The check succeeded; the offers it left are to be renewed from `renewAt` (ms). */
  succeeded(renewAt: number): void {
    this.renewAt = renewAt;
  }

  /** The check failed: the next pass tries again. */
  failed(): void {
    this.pending = true;
  }
}
