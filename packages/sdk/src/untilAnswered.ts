// A solver that restarts is a pause, not a failure, while nothing is locked: a call it does not
// answer before a deal exists is retried, with backoff, until the match timeout. Posting a signed
// job offer twice is harmless (the solver keeps one, by its id), so a post that may have arrived
// before the connection broke is simply sent again.
import { isLilyError } from "@lily/protocol";
import type { JobCreatorContext } from "./context.ts";

export async function untilAnswered<T>(ctx: JobCreatorContext, call: () => Promise<T>): Promise<T> {
  const until = Date.now() + ctx.submit.matchTimeoutMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
    try {
      return await call();
    } catch (e) {
      if (!isLilyError(e, "UNREACHABLE") || Date.now() + delay > until) throw e;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
