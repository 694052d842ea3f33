// Running a module inside its root filesystem at build time, as the execution contract will run it:
// the recipe's probe.sh writes sample inputs to /inputs (as root), then /lily/run runs as the
// image's user with only the INPUT_<NAME> environment and must exit 0 having written every output
// its manifest declares. Run once with the dynamic loader's debug log on (which shared libraries
// each process loads, for pruning) and once more after pruning, to prove the slim image still works.
// Each run gets its own mount and PID namespace with a fresh /proc, gone when it exits.
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { LilyError } from "@lily/protocol";
import { runCommand, type CommandResult } from "./command.ts";
import type { ContainerRecipe } from "./recipe.ts";
import { ENTRY_PATH, IMAGE_USER } from "./rootfs.ts";

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** The loader writes its log for process <pid> to <this>.<pid>. */
const TRACE_PREFIX = "/tmp/lily-ld";

export interface ProbeResult extends CommandResult {
  /** With `trace`: the loader's log of every process the module started. */
  traces: string[];
}

/** Namespaced chroot: `unshare` gives the run its own /proc, unmounted when it ends. */
function inRoot(root: string, userspec: string | undefined, argv: string[]): [string, string[]] {
  return [
    "unshare",
    ["--mount", "--pid", "--fork", `--mount-proc=${join(root, "proc")}`, "chroot", ...(userspec ? [`--userspec=${userspec}`] : []), root, ...argv],
  ];
}

function empty(dir: string): void {
  for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
}

/** Run the recipe's probe in `root`; with `trace`, collect the loader's logs. Leaves /inputs, /outputs and /tmp empty. */
export async function probe(recipe: ContainerRecipe, root: string, log: string, opts: { trace: boolean }): Promise<ProbeResult> {
  const at = `modules/containers/${recipe.name}`;
  const [inputs, outputs, tmp] = ["inputs", "outputs", "tmp"].map((d) => join(root, d)) as [string, string, string];
  try {
    copyFileSync(join(recipe.dir, "probe.sh"), join(tmp, "lily-probe.sh"));
    await runCommand(...inRoot(root, undefined, ["/bin/sh", "/tmp/lily-probe.sh"]), { field: `${at}/probe.sh`, log });
    const env = ["/usr/bin/env", "-i", `PATH=${PATH}`, "HOME=/nonexistent", ...probeEnv(recipe, inputs)];
    if (opts.trace) env.push("LD_DEBUG=libs,files", `LD_DEBUG_OUTPUT=${TRACE_PREFIX}`);
    chmodSync(outputs, 0o1777);
    const result = await runCommand(...inRoot(root, `${IMAGE_USER.uid}:${IMAGE_USER.gid}`, [...env, ENTRY_PATH]), { field: `${at}/run`, log });
    // REJECT: a module that does not write what its manifest promises is broken, whatever it exits with
    const missing = Object.keys(recipe.manifest.outputs).filter((name) => !existsSync(join(outputs, name)));
    if (missing.length)
      throw new LilyError({
        code: "EXECUTION_FAILED",
        field: `${at}/run`,
        message: `${at}/run: the probe run wrote no ${missing.join(", ")} (declared in manifest.json outputs)`,
      });
    const traces = readdirSync(tmp)
      .filter((n) => n.startsWith("lily-ld."))
      .map((n) => readFileSync(join(tmp, n), "utf8"));
    return { ...result, traces };
  } finally {
    chmodSync(outputs, 0o755);
    for (const dir of [inputs, outputs, tmp]) empty(dir);
  }
}

/** The environment the contract gives: INPUT_<NAME> for each scalar input in /inputs/inputs.json. */
function probeEnv(recipe: ContainerRecipe, inputsDir: string): string[] {
  const at = `modules/containers/${recipe.name}/probe.sh`;
  const path = join(inputsDir, "inputs.json");
  if (!existsSync(path)) throw new LilyError({ code: "INVALID_INPUT", field: at, message: `${at}: must write /inputs/inputs.json` });
  const inputs = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  return Object.entries(inputs).flatMap(([name, value]) => {
    const field = recipe.manifest.inputs[name];
    if (!field) throw new LilyError({ code: "INVALID_INPUT", field: at, message: `${at}: input "${name}" is not in the manifest` });
    if (field.type === "file") {
      if (!existsSync(join(inputsDir, name)))
        throw new LilyError({ code: "INVALID_INPUT", field: at, message: `${at}: file input "${name}" is not at /inputs/${name}` });
      return [];
    }
    return [`INPUT_${name.toUpperCase()}=${String(value)}`];
  });
}
