// The provider's steps, one per deal at a time. A pass hands each deal it follows a step; a deal
// whose step is still running is skipped. But a pass that brings news (a solver event, capacity
// freed) may carry something the running step did not see (it read the solver and the chain
// before): such a deal gets one more pass when its step ends. Without it the news waited for the
// poll timer: a job creator's signature that arrived while the provider was still handling its
// own held the deal ~1 s before it opened. Passes without news (the timer, these follow-ups) mark
// nothing, so two busy deals cannot keep each other passing.

export class DealSteps {
  private readonly running = new Map<string, Promise<void>>();
  private readonly passAgainFor = new Set<string>();
  private readonly onError: (id: string, e: unknown) => void;
  private readonly passAgain: () => void;

  constructor(opts: { onError: (id: string, e: unknown) => void; passAgain: () => void }) {
    this.onError = opts.onError;
    this.passAgain = opts.passAgain;
  }

  /** Run `step` for the deal unless one is running; errors go to onError (the next pass decides again). */
  handle(id: string, step: () => Promise<void>, withNews: boolean): void {
    const key = id.toLowerCase();
    if (this.running.has(key)) {
      if (withNews) this.passAgainFor.add(key);
      return;
    }
    const run = step()
      .catch((e) => this.onError(id, e))
      .finally(() => {
        this.running.delete(key);
        if (this.passAgainFor.delete(key)) this.passAgain();
      });
    this.running.set(key, run);
  }

  /** The steps still running (to wait for on close). */
  inFlight(): Promise<void>[] {
    return [...this.running.values()];
  }
}
