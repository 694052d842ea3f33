// What runs on this machine right now, and the gate a job passes before it runs: jobs run
// concurrently while their resources fit the provider's capacity (and their number its
// maxConcurrentJobs), never beyond. Signing already holds a job's share (capacity.ts), so the gate
// only closes when the provider holds more than it has now: deals signed before a restart with
// less capacity. A job that waits is tried again on the next pass (or as soon as a job ends); one
// that alone needs more than the whole capacity runs when nothing else does, since the provider
// signed it and leaving it to time out would cost the provider its collateral.
import type { Hex } from "viem";
import { NO_RESOURCES, addResources, shortfall, type Resources } from "./resources.ts";

export interface RunGateLimits {
  capacity: Resources;
  /** At most this many at once (default: no limit beyond capacity). */
  maxJobs?: number;
}

export class RunGate {
  private readonly limits: RunGateLimits;
  private readonly running = new Map<string, Resources>();
  private readonly onFree: () => void;
  /** A job was turned away since a job last ended: the next one to end says so. */
  private turnedAway = false;

  /**
   * `onFree` is called when a job ends after another was turned away, so that the waiting one is
   * looked at again soon. When none waited there is nothing to look at: a call then cost the
   * provider a whole pass per job.
   */
  constructor(limits: RunGateLimits, onFree: () => void = () => {}) {
    this.limits = limits;
    this.onFree = onFree;
  }

  /** Admit the deal's job if it fits beside what runs; a `release` to call when it ends, or why it waits. */
  tryAcquire(dealId: Hex, needs: Resources): { release: () => void } | { wait: string } {
    const key = dealId.toLowerCase();
    const inUse = this.inUse();
    const count = this.running.size;
    if (this.limits.maxJobs !== undefined && count >= this.limits.maxJobs) return this.turnAway(`${count} of at most ${this.limits.maxJobs} jobs running`);
    const short = shortfall(needs, inUse, this.limits.capacity);
    const alone = count === 0 && shortfall(needs, NO_RESOURCES, this.limits.capacity) !== undefined;
    if (short && !alone)
      return this.turnAway(
        `${short}: the job needs ${needs[short]}, ${this.limits.capacity[short] - inUse[short]} of ${this.limits.capacity[short]} free while ${count} run`,
      );
    this.running.set(key, needs);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.running.delete(key);
        if (!this.turnedAway) return;
        this.turnedAway = false;
        this.onFree();
      },
    };
  }

  private turnAway(why: string): { wait: string } {
    this.turnedAway = true;
    return { wait: why };
  }

  /** How many jobs run now. */
  count(): number {
    return this.running.size;
  }

  /** The resources the running jobs hold. */
  inUse(): Resources {
    return [...this.running.values()].reduce(addResources, NO_RESOURCES);
  }

  capacity(): Resources {
    return { ...this.limits.capacity };
  }
}
