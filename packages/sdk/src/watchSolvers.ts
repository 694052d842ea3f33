// The wait loop's ears: a change subscription to every solver the job creator uses, for one job
// offer. Another solver's proposal comes only through that solver, so the loop may lean on events
// (and sleep its slow fallback) only while every subscription is open; one that is down, or not
// open yet, leaves it on the short poll.
import type { Hex } from "viem";
import { watchChanges } from "@lily/api";
import type { JobCreatorContext } from "./context.ts";
import { bringsNews, type NewsOptions } from "./newsFilter.ts";
import type { PushedRecords } from "./pushedRecords.ts";

export interface SolverWatch {
  /** Whether every solver's subscription is open now. */
  open(): boolean;
  close(): void;
}

/**
 * `news` on an event worth a pass and on every (re)connection (what it missed is re-read); `dropped`
 * when one closes. `news`: what the caller makes of an event (newsFilter.ts).
 */
export function watchSolvers(
  ctx: JobCreatorContext,
  jobOfferId: Hex,
  on: { news(): void; dropped(): void },
  news: NewsOptions = { progress: true },
  records?: PushedRecords,
): SolverWatch {
  const urls = ctx.opts.solverUrls?.length ? ctx.opts.solverUrls : [ctx.opts.solverUrl];
  const up = new Set<string>();
  const subs = urls.map((url) =>
    watchChanges(
      url,
      { jobOffer: jobOfferId },
      (hint, event) => {
        records?.put(event);
        if (bringsNews(hint, news)) on.news();
      },
      {
        onOpen: () => {
          records?.clear();
          up.add(url);
          on.news();
        },
        onClose: () => {
          records?.clear();
          up.delete(url);
          on.dropped();
        },
      },
    ),
  );
  return {
    open: () => up.size === urls.length,
    close: () => {
      for (const s of subs) s.close();
    },
  };
}
