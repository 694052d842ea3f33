// `lily run` signs its job offer about 300 ms after it starts, and the keystore's scrypt (40-120 ms)
// was the last thing that signature waited for. For a command that will sign, the derivation
// starts here, on libuv's thread pool, before the command's modules load on the main thread
// (node-kit's keystoreKdf.ts); opening the keystore later takes it. The command's flags are not
// parsed yet, so the keystore is found from the words as written: a guess that misses (an option
// spelled another way) only means the open derives the key itself, as it did before.
import { startKeystoreDerivation } from "@lily/node-kit/keystoreKdf";
import { JOB_CREATOR_ROLE, keystorePassword, lilyHome, paths } from "./config/home.ts";

/** Options after which the command prints or plans and signs nothing. */
const SIGNS_NOTHING = new Set(["--help", "-h", "--quote", "--dry-run"]);

/** The value of `--name v` or `--name=v` in `args`, the last one written. */
function optionValue(args: string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") break;
    if (a === name && i + 1 < args.length) value = args[++i];
    else if (a.startsWith(`${name}=`)) value = a.slice(name.length + 1);
  }
  return value;
}

/** The keystore the command in `args` (a signing command, see commands/index.ts) will sign with, or undefined when it will sign nothing. */
export function signingKeyPath(args: string[]): string | undefined {
  if (args.some((a) => SIGNS_NOTHING.has(a))) return undefined;
  const home = lilyHome(optionValue(args, "--home"));
  return optionValue(args, "--key") ?? paths(home).key(optionValue(args, "--as") ?? JOB_CREATOR_ROLE);
}

/** Starts deriving that keystore's key on the thread pool (see above). */
export function startSigningKey(args: string[]): void {
  const path = signingKeyPath(args);
  if (path) startKeystoreDerivation(path, keystorePassword());
}
