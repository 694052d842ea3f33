// When the engine fails under a running task (here: the connection carrying its `wait` is cut, by
// a relay in front of the real engine that passes everything else), `wait` rejects with the
// reason instead of inventing an exit, and the container is still removed.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { isLilyError } from "@lily/protocol";
import { createDockerExecutor, TASK_LABEL } from "../src/docker/dockerExecutor.ts";
import { DockerEngine } from "../src/docker/engine.ts";
import { parseDockerHost } from "../src/docker/daemon.ts";
import { jobDirs } from "./fixtures/runTask.ts";
import { testDocker, testImage } from "../../../test/support/docker.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const docker = await testDocker();
const skip = "skip" in docker ? docker.skip : false;
const dir = tempDir("lily-engine-relay-");
after(() => rmSync(dir, { recursive: true, force: true }));

/** A unix-socket relay to the engine at `target` that cuts any connection carrying a request whose head matches `cut`. */
async function relay(target: string, cut: RegExp): Promise<{ socketPath: string; close(): void }> {
  const socketPath = join(dir, "relay.sock");
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    client.on("data", (chunk: Buffer) => {
      if (cut.test(chunk.toString("latin1"))) {
        client.destroy();
        upstream.destroy();
      } else upstream.write(chunk);
    });
    upstream.pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
  });
  await new Promise<void>((ready) => server.listen(socketPath, ready));
  return { socketPath, close: () => server.close() };
}

test("an engine connection cut during `wait` rejects the wait, and the container is removed all the same", { skip }, async () => {
  if ("skip" in docker) return;
  const { engine } = docker;
  if (!engine.endpoint.socketPath) throw new Error("this test relays a unix socket; the engine here is on tcp");
  const image = await testImage(engine);
  const cutter = await relay(engine.endpoint.socketPath, /^POST \/v[\d.]+\/containers\/[0-9a-f]+\/wait/m);
  const dirs = jobDirs();
  try {
    const executor = createDockerExecutor({ engine: new DockerEngine(parseDockerHost(`unix://${cutter.socketPath}`)) });
    const handle = await executor.start({
      kind: "docker",
      image,
      command: ["sleep", "60"],
      inputsDir: dirs.inputsDir,
      outputsDir: dirs.outputsDir,
      env: {},
      args: [],
      memoryMb: 32,
      timeoutMs: 60_000,
      cpu: 1,
      gpus: 0,
      network: false,
      outputLimitBytes: 1024 * 1024,
    });
    await assert.rejects(executor.wait(handle), (e) => isLilyError(e, "UNREACHABLE") && e.field === "docker");
    assert.equal(executor.inspect(handle).state, "exited");
    const left = await engine.json<unknown[]>({
      path: "/containers/json",
      query: { all: 1, filters: JSON.stringify({ label: [`${TASK_LABEL}=${handle.id}`] }) },
    });
    assert.deepEqual(left, []);
  } finally {
    cutter.close();
    dirs.remove();
  }
});
