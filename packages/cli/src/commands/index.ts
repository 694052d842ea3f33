// Every top-level `lily` command, and how to load it only when it is asked for. Loading them all
// pulls viem, SQLite, the executor and every role's package in before anything is printed (about
// 0.5 s and 130 MiB for `lily --help`); with this table `lily --help` loads none of them and
// `lily run` loads only what `run` imports. The names, usage terms and descriptions here are what
// the top-level help prints; a test loads every command and checks they match what it registers.
import type { Command } from "commander";

export interface LazyCommand {
  /** The module registering the command(s), loaded on demand. */
  load(): Promise<(program: Command) => void>;
  /** What the module registers at the top level: `name` and the term and description help shows. */
  commands: { name: string; term: string; description: string }[];
  /** Runs until stopped (the devnet, a role, a served model): its heap is not a short-lived command's (shortLivedHeap.ts). */
  longLived?: true;
  /** Leaves nothing running once its action returns, so the process exits then (main.ts). */
  exitsWhenDone?: true;
  /** Signs with its `--as`/`--key` keystore soon after it starts: the key's derivation starts before its modules load (earlyKey.ts). */
  signsEarly?: true;
}

export const COMMANDS: LazyCommand[] = [
  {
    load: async () => (await import("./devnet.ts")).registerDevnet,
    longLived: true,
    commands: [
      { name: "devnet", term: "devnet [options]", description: "start the whole network on this machine: chain, contracts, store, solver and providers" },
    ],
  },
  {
    load: async () => (await import("./run.ts")).registerRun,
    exitsWhenDone: true,
    signsEarly: true,
    commands: [{ name: "run", term: "run [options] <module>", description: "run a module on the network and wait for its result" }],
  },
  {
    load: async () => (await import("./challenge.ts")).registerChallenge,
    commands: [
      {
        name: "challenge",
        term: "challenge [options] <id>",
        description: "dispute a job's result (optimistic policy, within its challenge window): a mediator re-runs it and rules",
      },
    ],
  },
  {
    load: async () => (await import("./jobs.ts")).registerJobs,
    commands: [{ name: "jobs", term: "jobs [options]", description: "list this job creator's jobs" }],
  },
  {
    load: async () => (await import("./account.ts")).registerAccount,
    commands: [
      { name: "balance", term: "balance [options]", description: "show wallet and escrow balances" },
      { name: "deposit", term: "deposit [options] <amount>", description: "move LILY from the wallet into escrow" },
      { name: "withdraw", term: "withdraw [options] <amount>", description: "move free LILY from escrow back to the wallet" },
    ],
  },
  {
    load: async () => (await import("./modules.ts")).registerModules,
    commands: [{ name: "modules", term: "modules [options]", description: "list the modules you can run" }],
  },
  {
    load: async () => (await import("./module.ts")).registerModule,
    commands: [{ name: "module", term: "module", description: "create, build and publish modules; browse the registry" }],
  },
  {
    load: async () => (await import("./store.ts")).registerStore,
    longLived: true,
    commands: [{ name: "store", term: "store [options]", description: "run a content-addressed store (CIDv1 blocks on disk, served over HTTP)" }],
  },
  {
    load: async () => (await import("./solver.ts")).registerSolver,
    longLived: true,
    commands: [{ name: "solver", term: "solver [options]", description: "run a solver: keeps job and resource offers, matches them, proposes deals" }],
  },
  {
    load: async () => (await import("./provider.ts")).registerProvider,
    longLived: true,
    commands: [
      {
        name: "provider",
        term: "provider [options]",
        description: "run a resource provider: advertises capacity and prices, signs deals, runs jobs in a sandbox, commits results",
      },
    ],
  },
  {
    load: async () => (await import("./mediator.ts")).registerMediator,
    longLived: true,
    commands: [{ name: "mediator", term: "mediator [options]", description: "run a mediator: re-runs disputed jobs in the same sandbox and rules on chain" }],
  },
  {
    load: async () => (await import("./gateway.ts")).registerGateway,
    longLived: true,
    commands: [
      {
        name: "gateway",
        term: "gateway [options]",
        description: "run the OpenAI-compatible inference gateway (leases with providers, API keys, wallet sign-in)",
      },
    ],
  },
  {
    load: async () => (await import("./model.ts")).registerModel,
    longLived: true,
    commands: [{ name: "model", term: "model", description: "add models to the network, serve a GGUF model, list models" }],
  },
  {
    load: async () => (await import("./keys.ts")).registerKeys,
    commands: [{ name: "keys", term: "keys", description: "API keys for the gateway (OpenAI-compatible): create, list, revoke" }],
  },
  {
    load: async () => (await import("./receipt.ts")).registerReceipt,
    commands: [{ name: "receipt", term: "receipt", description: "audit answers from the inference gateway by their signed receipts" }],
  },
  {
    load: async () => (await import("./publishIpfs.ts")).registerPublishIpfs,
    commands: [
      {
        name: "publish-ipfs",
        term: "publish-ipfs [options] <cid>",
        description: "copy a result, module or file (by CID) from the Lily store to your IPFS node, pinned there",
      },
    ],
  },
  {
    load: async () => (await import("./falseChallenger.ts")).registerFalseChallenger,
    longLived: true,
    commands: [
      {
        name: "false-challenger",
        term: "false-challenger [options]",
        description: "demo adversary: submits jobs under the optimistic policy and challenges every result, correct or not",
      },
    ],
  },
];

/** Top-level options that take a value, so the word after them is not the command. */
const VALUED_OPTIONS = new Set(["--home"]);

/** The first word of `args` that is not a top-level option (the command, or `help`), and whether it came after `--` (then it is only ever a command). */
function firstWord(args: string[]): { word?: string; next?: string; literal: boolean } {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") return { word: args[i + 1], literal: true };
    if (VALUED_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if (!a.startsWith("-")) return { word: a, next: args[i + 1], literal: false };
  }
  return { literal: false };
}

/** Whether that first word asks for help on a command (`lily help run`) rather than to run it. */
const isHelp = (w: ReturnType<typeof firstWord>): boolean => !w.literal && w.word === "help";

/** The command `args` (process.argv after node and the script) asks for: `run` in `lily --home h run x` and in `lily help run`. */
export function requestedCommand(args: string[]): string | undefined {
  const w = firstWord(args);
  return isHelp(w) ? w.next : w.word;
}

/** The table's entry for the command `args` ask for (also when they ask for its help), if it is one. */
function requestedEntry(args: string[]): LazyCommand | undefined {
  const wanted = requestedCommand(args);
  return COMMANDS.find((c) => c.commands.some((cmd) => cmd.name === wanted));
}

/** Whether `args` name a command that does its work and exits (not a role, the devnet or a served model). */
export function shortLivedCommand(args: string[]): boolean {
  const entry = requestedEntry(args);
  return entry !== undefined && !entry.longLived;
}

/** Whether `args` run a command that signs soon after it starts (`signsEarly`); its help signs nothing. */
export function signsEarly(args: string[]): boolean {
  return !isHelp(firstWord(args)) && requestedEntry(args)?.signsEarly === true;
}

/** Whether `args` name a command that leaves nothing running once its action returns (`exitsWhenDone`). */
export function exitsWhenDone(args: string[]): boolean {
  return requestedEntry(args)?.exitsWhenDone === true;
}

/**
 * Registers on `program` the command `args` asks for, loading only its module; when it names none
 * (or none that exists: commander then says so, with a suggestion), every command as a stub that
 * help can list, so nothing heavy is loaded.
 */
export async function registerCommands(program: Command, args: string[]): Promise<void> {
  const entry = requestedEntry(args);
  if (entry) return (await entry.load())(program);
  const terms = new Map<string, string>();
  for (const c of COMMANDS)
    for (const cmd of c.commands) {
      program.command(cmd.name).description(cmd.description);
      terms.set(cmd.name, cmd.term);
    }
  const help = program.createHelp();
  program.configureHelp({ ...program.configureHelp(), subcommandTerm: (cmd) => terms.get(cmd.name()) ?? help.subcommandTerm(cmd) });
}
