// One run of a task at a time, and no run wasted: a request made while a run is waiting to start
// joins it; one made while a run is under way gets the next run, which starts after it. Matching
// reads the chain before it plans, so two passes must not interleave, and a burst of offers
// should cost one pass, not one each.
export class Coalescer {
  private tail: Promise<void> = Promise.resolve();
  private waiting: Promise<void> | undefined;

  private readonly task: () => Promise<void>;

  constructor(task: () => Promise<void>) {
    this.task = task;
  }

  run(): Promise<void> {
    if (this.waiting) return this.waiting;
    const run = this.tail.then(() => {
      this.waiting = undefined;
      return this.task();
    });
    this.waiting = run;
    this.tail = run.catch(() => undefined);
    return run;
  }
}
