// The wait loop's sleep between passes (waitForResult.ts). News (a solver event, an abort) ends it
// at once, and news that arrives while a pass is reading or acting is kept, not lost: the next
// sleep then ends at once. A subscription that drops shortens a long sleep to the short poll, so
// losing events never costs more than that poll.
export interface Alarm {
  /** Sleep up to `ms`; at once if news came since the last `clear()`. */
  sleep(ms: number): Promise<void>;
  /** News: end the sleep now (or the next one, if none is running). */
  ring(): void;
  /** End the current sleep within `ms` at the latest. */
  atMost(ms: number): void;
  /** What came before this moment is in the read that starts now. */
  clear(): void;
}

export function alarm(): Alarm {
  let news = false;
  let current: { until: number; timer: NodeJS.Timeout; done: () => void } | undefined;
  const end = () => {
    if (!current) return;
    clearTimeout(current.timer);
    const { done } = current;
    current = undefined;
    done();
  };
  return {
    sleep(ms) {
      if (news) return Promise.resolve();
      return new Promise<void>((resolve) => {
        current = { until: Date.now() + ms, timer: setTimeout(end, ms), done: resolve };
      });
    },
    ring() {
      news = true;
      end();
    },
    atMost(ms) {
      if (!current || current.until <= Date.now() + ms) return;
      clearTimeout(current.timer);
      current.until = Date.now() + ms;
      current.timer = setTimeout(end, ms);
    },
    clear() {
      news = false;
    },
  };
}
