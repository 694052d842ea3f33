// The young generation of a command that lives a second or two (`lily run`, `lily jobs`, ...).
// V8 starts it at 1 MiB and doubles it only after a collection finds more survivors than it holds,
// so loading the command (modules, zod schemas, viem, which all stay alive) went through 7
// scavenges that copied the same live objects again and again and promoted them, then a
// mark-compact for the old generation they filled: ~35 ms of pauses (--trace-gc), plus the GC
// threads' CPU, on the path of every `lily run`. Growing by 16x at the first collection reaches
// the default maximum at once: a `lily run` then scavenges two or three times and never marks. Only the growth factor is
// changed (V8 reads it at each growth; the heap's sizes are fixed at start-up), and only in
// short-lived commands: a role's memory is tuned separately (bin/roleProcess.js).

/** V8's default is 2: each growth doubles the young generation, up to its maximum. */
export const SHORT_LIVED_GROWTH_FACTOR = 16;

export function growYoungGenerationAtOnce(): void {
  // Loaded here, not imported: node:v8 loads Node's heap utilities, and an ES import of it also
  // reads every export (the streams stack with them), ~7 ms of `lily --help`, which never calls this.
  process.getBuiltinModule("node:v8").setFlagsFromString(`--semi-space-growth-factor=${SHORT_LIVED_GROWTH_FACTOR}`);
}
