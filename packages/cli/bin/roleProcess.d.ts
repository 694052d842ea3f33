// Types of roleProcess.js (plain JS so that the shim loads no TypeScript; see its header).

/** V8 flags for every role process (why: roleProcess.js). */
export declare const ROLE_EXEC_ARGV: readonly string[];

/** glibc malloc settings for every role process; values from the caller or the environment win. */
export declare const ROLE_ENV: Readonly<Record<string, string>>;

/** The `lily` commands that run a long-lived role. */
export declare const ROLE_COMMANDS: readonly string[];

/** The command `lily <args>` runs: the first argument that is neither an option nor --home's value. */
export declare function commandOf(args: readonly string[]): string | undefined;

export interface RoleStart {
  /** node's own flags (process.execArgv). */
  execArgv: readonly string[];
  /** What follows them: the script and its arguments (process.argv.slice(1)). */
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  /** Whether the process has an IPC channel to its parent (which a re-execution would lose). */
  ipc: boolean;
}

/**
 * The node arguments and environment to re-execute a role with, or undefined when there is nothing
 * to do: not a role command, a channel to a parent to keep, or every role flag already given.
 */
export declare function roleReexec(p: RoleStart): { args: string[]; env: Record<string, string> } | undefined;
