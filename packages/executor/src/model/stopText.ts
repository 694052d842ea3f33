// Stop sequences over streamed text. Text is passed on as soon as it can no longer be the start of
// a stop sequence; a tail that might be one is held back until the next piece decides it. So the
// streamed pieces never contain any part of a stop sequence, and their concatenation is exactly the
// final answer (what a streaming client saw is what a non-streaming one gets, and what is signed).

export interface StopText {
  /** Add produced text; returns what may be passed on now (possibly "") and whether a stop sequence ended the answer. */
  push(text: string): { emit: string; stopped: boolean };
  /** Text held back when the answer ends another way (length, abort): it was produced, so it is passed on. */
  flush(): string;
}

export function createStopText(stops: readonly string[]): StopText {
  const active = stops.filter((s) => s.length > 0);
  let held = "";
  return {
    push(text) {
      const buf = held + text;
      // REJECT: nothing from a stop sequence on may reach the answer; the earliest match wins.
      let cut = -1;
      for (const s of active) {
        const i = buf.indexOf(s);
        if (i >= 0 && (cut < 0 || i < cut)) cut = i;
      }
      if (cut >= 0) {
        held = "";
        return { emit: buf.slice(0, cut), stopped: true };
      }
      const keep = longestPrefixTail(buf, active);
      held = buf.slice(buf.length - keep);
      return { emit: buf.slice(0, buf.length - keep), stopped: false };
    },
    flush() {
      const out = held;
      held = "";
      return out;
    },
  };
}

/** Length of the longest tail of `buf` that is a proper prefix of some stop sequence. */
function longestPrefixTail(buf: string, stops: readonly string[]): number {
  let best = 0;
  for (const s of stops) {
    for (let n = Math.min(s.length - 1, buf.length); n > best; n--) {
      if (buf.endsWith(s.slice(0, n))) {
        best = n;
        break;
      }
    }
  }
  return best;
}
