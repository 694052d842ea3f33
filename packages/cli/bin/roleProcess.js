// The V8 flags and glibc malloc settings every role process runs with, however it was started:
// the devnet's supervisor forks roles with them, and bin/lily.js re-executes `lily <role>` with
// them when they were not given (process.execve: the same process, no parent left waiting), so an
// operator's `lily solver` is the process the memory targets were measured on. No imports: the
// shim loads it before deciding which build of the CLI to run.
//
// Plain JS (types in roleProcess.d.ts), like the rest of the shim: every `lily` process loads it,
// and a TypeScript file there made Node load its type stripper (amaro, SWC compiled to WASM)
// whenever the compile cache had no stripped copy of it, i.e. in every role of the first devnet
// after an install, a Node upgrade or a cleared temp folder. The stripper's WASM memory and code
// then stayed resident for the role's life: about 10 MiB more per idle role (solver 77 -> 87 MiB,
// `npm run bench:idle -- --cold-cache`), and loading it cost any command ~100 ms.

/**
 * V8 flags for every role process. A role's heap is small and long-lived, but by default V8 lets
 * its young generation grow to 3 x 16 MiB of semi-space under a burst (a solver reloading 100k
 * offers, a provider's first jobs) and keeps it reserved afterwards. Capping it at 2 MiB measured
 * 221 MiB instead of 345 MiB for a solver holding 100k offers and 152 instead of 214 MiB for an
 * idle provider, with the reload faster, not slower. It cannot be set once V8 is running
 * (v8.setFlagsFromString leaves the heap as configured), hence the re-execution.
 */
export const ROLE_EXEC_ARGV = ["--max-semi-space-size=2"];

/**
 * glibc malloc settings for every role process (values from the caller or the environment win).
 * By default glibc raises its mmap threshold each time a large block is freed (up to 32 MiB), so
 * the 1-4 MiB transient buffers of start-up (V8 compiling a bundle of a few MB, the first RPC
 * answers and SQLite reads) end up in the heap and stay resident once freed, and every thread
 * that mallocs (V8's compiler and GC workers) may get an arena of its own. Fixed thresholds of
 * 2 MiB (above the store's 1 MiB chunks, which keep coming from the heap) and two arenas measured
 * idle RSS in a devnet 14-29 MiB lower for the solver, the mediator, the gateway and the provider
 * (e.g. mediator 111 -> 89 MiB, gateway 108 -> 90 MiB), with no more start-up CPU and no slower
 * 1 MiB buffer churn (bench/idleMemory.ts; 128 KiB thresholds saved no more, 4 MiB much less).
 */
export const ROLE_ENV = {
  MALLOC_ARENA_MAX: "2",
  MALLOC_MMAP_THRESHOLD_: "2097152",
  MALLOC_TRIM_THRESHOLD_: "2097152",
};

/** The `lily` commands that run a long-lived role. */
export const ROLE_COMMANDS = ["store", "solver", "provider", "mediator", "gateway"];

/** The command `lily <args>` runs: the first argument that is neither an option nor --home's value. */
export function commandOf(args) {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--home") i++;
    else if (!a.startsWith("-")) return a;
  }
  return undefined;
}

/** A flag's name: `--max-semi-space-size=2` and `--max-semi-space-size 2` both name `--max-semi-space-size`. */
const flagName = (flag) => flag.split("=")[0].replaceAll("_", "-");

/**
 * The node arguments and environment to re-execute a role with, or undefined when there is nothing
 * to do: not a role command, a channel to a parent to keep, or every role flag already given (on
 * the command line or in NODE_OPTIONS: an operator's own value of a flag wins, as their malloc
 * settings do).
 */
export function roleReexec(p) {
  const command = commandOf(p.argv.slice(1));
  if (!command || !ROLE_COMMANDS.includes(command) || p.ipc) return undefined;
  const given = new Set([...p.execArgv, ...(p.env.NODE_OPTIONS ?? "").split(/\s+/)].filter(Boolean).map(flagName));
  const missing = ROLE_EXEC_ARGV.filter((f) => !given.has(flagName(f)));
  if (missing.length === 0) return undefined;
  const env = { ...ROLE_ENV };
  for (const [k, v] of Object.entries(p.env)) if (v !== undefined) env[k] = v;
  return { args: [...missing, ...p.execArgv, ...p.argv], env };
}
