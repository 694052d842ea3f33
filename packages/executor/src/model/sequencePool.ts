// Context sequences handed out one request at a time, first come first served. A request holds its
// sequence from its first prompt token to its last answer token; the rest wait in line, so any
// number of concurrent generate calls is safe and at most `size` evaluate in the same batch.

export interface Pool<T> {
  /** Wait for a free item; resolves undefined if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<T | undefined>;
  release(item: T): void;
}

export function createPool<T>(items: readonly T[]): Pool<T> {
  const free = [...items];
  const waiting: ((item: T) => void)[] = [];
  return {
    acquire(signal) {
      if (signal?.aborted) return Promise.resolve(undefined);
      const item = free.shift();
      if (item !== undefined) return Promise.resolve(item);
      return new Promise((resolve) => {
        const take = (it: T) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(it);
        };
        const onAbort = () => {
          waiting.splice(waiting.indexOf(take), 1);
          resolve(undefined);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        waiting.push(take);
      });
    },
    release(item) {
      const next = waiting.shift();
      if (next) next(item);
      else free.push(item);
    },
  };
}
