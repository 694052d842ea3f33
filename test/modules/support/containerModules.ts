// Running the built container modules as a provider does: a real Docker engine (DOCKER_HOST, the
// standard socket, or a private daemon), the images built by `buildImages` (nothing is rebuilt when
// the recipes are unchanged), and each job through the execution contract: inputs validated
// against the manifest, laid out by `prepareJobDirs`, run by the Docker executor from
// `jobTaskSpec`, its /outputs read back file by file.
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createDockerExecutor, type DockerEngine, jobTaskSpec, prepareJobDirs, type ExitResult } from "@lily/executor";
import { testDocker } from "../../support/docker.ts";
import { cidForBytes, validateInputs, type InputValue } from "@lily/protocol";
import { loadContainerCatalog, type ContainerCatalogEntry } from "../../../modules/containers/catalog.ts";
import { buildImages } from "../../../modules/scripts/buildImages.ts";
import { tempDir } from "../../support/tempDir.ts";

/** Set LILY_SKIP_DOCKER=1 to leave these tests out where no Docker engine can run; otherwise a missing engine fails them. */
export const skipDocker = process.env.LILY_SKIP_DOCKER === "1" ? "LILY_SKIP_DOCKER=1" : false;

export interface ContainerModules {
  engine: DockerEngine;
  modules: Map<string, ContainerCatalogEntry>;
  /** Run one job of `name` on `inputs` (file inputs as bytes). */
  run(name: string, inputs: Record<string, InputValue | Uint8Array>): Promise<ModuleRun>;
  close(): Promise<void>;
}

export interface ModuleRun {
  exit: ExitResult;
  /** Everything the job left in /outputs (stdout and stderr included), by name. */
  files: Map<string, Uint8Array>;
  text(name: string): string;
  json<T = unknown>(name: string): T;
}

/** The engine, with every container module built (or found built) on it. */
export async function containerModules(): Promise<ContainerModules> {
  // The engine every Docker test shares (test/support/docker.ts): the images stay loaded there.
  const found = await testDocker();
  if ("skip" in found) throw new Error(found.skip);
  const engine = found.engine;
  await buildImages({ engine });
  const modules = new Map(loadContainerCatalog().map((e) => [e.manifest.name, e]));
  const executor = createDockerExecutor({ engine });
  const work = tempDir("lily-container-modules-");
  let jobs = 0;

  async function run(name: string, given: Record<string, InputValue | Uint8Array>): Promise<ModuleRun> {
    const entry = modules.get(name);
    if (!entry) throw new Error(`no container module ${name} (built: ${[...modules.keys()].join(", ")})`);
    // File inputs travel by CID, as in a job: the record names the CID, the bytes come from a "store".
    const blobs = new Map<string, Uint8Array>();
    const record: Record<string, InputValue> = {};
    for (const [key, value] of Object.entries(given)) {
      if (value instanceof Uint8Array) {
        const cid = cidForBytes(value);
        blobs.set(cid, value);
        record[key] = cid;
      } else record[key] = value;
    }
    const inputs = validateInputs(entry.manifest, record);
    const dirs = await prepareJobDirs(join(work, `job-${++jobs}`), entry.manifest, inputs, async (cid) => blobs.get(cid)!);
    const spec = jobTaskSpec(
      entry.manifest,
      { kind: "docker", image: entry.image, executor: entry.manifest.executor },
      dirs,
      entry.manifest.resources.timeoutSeconds * 1000,
    );
    if (spec.kind !== "docker") throw new Error(`${name}: jobTaskSpec made a ${spec.kind ?? "wasm"} task for a container module`);
    const exit = await executor.wait(await executor.start(spec));
    const files = new Map(readdirSync(dirs.outputsDir).map((f) => [f, new Uint8Array(readFileSync(join(dirs.outputsDir, f)))]));
    const text = (file: string) => {
      const bytes = files.get(file);
      if (!bytes)
        throw new Error(`${name} wrote no ${file} (it wrote ${[...files.keys()].join(", ")}; stderr: ${new TextDecoder().decode(files.get("stderr"))})`);
      return new TextDecoder().decode(bytes);
    };
    return { exit, files, text, json: (file) => JSON.parse(text(file)) };
  }

  return {
    engine,
    modules,
    run,
    close: async () => {
      // The shared test engine stays up for the next test file.
      rmSync(work, { recursive: true, force: true });
    },
  };
}
