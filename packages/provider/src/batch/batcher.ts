// Coalescing many requests of one kind into one call. Items submitted in the same turn of the
// event loop, or while the previous call is still in flight, go out together; a lone item goes
// out on the next turn (setImmediate), so batching never holds a job back on a quiet provider.
// `send` answers per item (an item refused is that item's error, the others go on); a `send`
// that throws fails every item of its call, as each single call would have failed.

/** What `send` answers for one item of a call: its value, or the error its single call would have thrown. */
export type ItemOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface BatcherOptions {
  /** The most items in one call. */
  maxItems: number;
  /** The most calls in flight at once; items arriving meanwhile wait for one to finish (or for a full batch). */
  maxInFlight: number;
}

interface Waiting<I, R> {
  item: I;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export class Batcher<I, R> {
  private readonly opts: BatcherOptions;
  private readonly send: (items: I[]) => Promise<ItemOutcome<R>[]>;
  private queue: Waiting<I, R>[] = [];
  private inFlight = 0;
  private scheduled = false;
  /** Sizes of the calls made so far (for logs and tests). */
  readonly calls: number[] = [];

  constructor(opts: BatcherOptions, send: (items: I[]) => Promise<ItemOutcome<R>[]>) {
    if (opts.maxItems < 1 || opts.maxInFlight < 1) throw new RangeError("a batcher needs maxItems and maxInFlight of at least 1");
    this.opts = opts;
    this.send = send;
  }

  /** Queue one item; settles with its own outcome once the call carrying it returns. */
  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Items waiting for a call. */
  get waiting(): number {
    return this.queue.length;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // The next turn: every item submitted in this one (a pass handling many deals) joins the call.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    // A full batch goes at once, whatever is in flight; a partial one waits for a free slot.
    while (this.queue.length > 0 && (this.inFlight < this.opts.maxInFlight || this.queue.length >= this.opts.maxItems)) {
      const batch = this.queue.splice(0, this.opts.maxItems);
      this.inFlight++;
      this.calls.push(batch.length);
      void this.run(batch).finally(() => {
        this.inFlight--;
        if (this.queue.length > 0) this.schedule();
      });
    }
  }

  private async run(batch: Waiting<I, R>[]): Promise<void> {
    let outcomes: ItemOutcome<R>[];
    try {
      outcomes = await this.send(batch.map((w) => w.item));
    } catch (e) {
      for (const w of batch) w.reject(e);
      return;
    }
    for (const [i, w] of batch.entries()) {
      const o = outcomes[i];
      if (!o) w.reject(new Error(`batch call answered ${outcomes.length} outcomes for ${batch.length} items`));
      else if (o.ok) w.resolve(o.value);
      else w.reject(o.error);
    }
  }
}
