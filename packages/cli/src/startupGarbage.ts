// One full garbage collection a few seconds after a role has started, so that an idle role does not
// keep its start-up garbage (parsed command line, deployment reads, the first chain and peer answers,
// compiler leftovers) resident until V8 next needs room, which for an idle role can be never: its
// heap grows too slowly to trigger a major GC. It is the collection V8 runs when the system is low
// on memory (its "last resort" flavour: repeated until nothing more frees, then the young generation
// shrunk and pooled pages given back). bench/idleMemory.ts, medians of 3 devnets, twice: 2-7 MiB less
// per role (store 78 -> 71, solver 94 -> 88, provider 131 -> 126, mediator 91 -> 89, gateway
// 93 -> 87), where a plain major collection saved 0-5 MiB; start-up CPU unchanged. Only memory is
// affected: nothing a role does depends on when garbage is collected (code that V8 drops with it is
// compiled again on its next call).
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** How long after start-up the collection runs: a role's first reads, polls and answers are done by then (3 s and 6 s measured alike with a plain collection). */
export const STARTUP_GC_DELAY_MS = 5000;

type Gc = (opts: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

/**
 * V8's `gc()`, without starting Node with --expose-gc: the flag is set just long enough for a fresh
 * context to get the function (the way jest-leak-detector does it), so no other code sees a `gc`.
 */
function v8Gc(): Gc {
  setFlagsFromString("--expose-gc");
  try {
    return runInNewContext("gc") as Gc;
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
}

/** Collect the start-up garbage once, `delayMs` from now; the timer never keeps the process alive. */
export function dropStartupGarbage(delayMs = STARTUP_GC_DELAY_MS): void {
  setTimeout(() => v8Gc()({ type: "major", execution: "sync", flavor: "last-resort" }), delayMs).unref();
}
