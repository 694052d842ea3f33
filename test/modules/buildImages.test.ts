// Building the container images: an unchanged recipe is not built again, an engine that lost an
// image gets the very same image back from its archive, and what is built is slim and runs as
// nobody in particular: no package manager, manuals or translations, a non-root user.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { createDockerExecutor, type DockerEngine } from "@lily/executor";
import { testDocker } from "../support/docker.ts";
import { loadContainerCatalog, verifyArchive } from "../../modules/containers/catalog.ts";
import { buildImages } from "../../modules/scripts/buildImages.ts";
import { imageId } from "../../modules/scripts/images/engineImages.ts";
import { skipDocker } from "./support/containerModules.ts";
import { tempDir } from "../support/tempDir.ts";

let engine: DockerEngine;

describe("building container images", { skip: skipDocker }, () => {
  before(async () => {
    const found = await testDocker();
    if ("skip" in found) throw new Error(found.skip);
    engine = found.engine;
    await buildImages({ engine });
  });

  test("an unchanged recipe is not built again, and its manifest names its image and archive", async () => {
    const [chess] = await buildImages({ engine, names: ["chess"] });
    assert.equal(chess!.status, "unchanged");
    const entry = loadContainerCatalog().find((e) => e.ref === "chess@1.0.0")!;
    assert.equal(entry.manifestCid, chess!.manifestCid);
    assert.equal(entry.image, chess!.image);
    await verifyArchive(entry);
  });

  test("an engine that lost an image gets the same image back from the archive", async () => {
    const entry = loadContainerCatalog().find((e) => e.ref === "chess@1.0.0")!;
    await engine.json({ method: "DELETE", path: `/images/${entry.image}`, query: { force: true } });
    assert.equal(await imageId(engine, entry.image), undefined);
    const [chess] = await buildImages({ engine, names: ["chess"] });
    assert.equal(chess!.status, "loaded");
    assert.equal(await imageId(engine, entry.image), entry.image);
    assert.equal(await imageId(engine, "lily-module/chess:1.0.0"), entry.image);
  });

  test("every image names a non-root user and carries no package manager, manuals or translations", async () => {
    const executor = createDockerExecutor({ engine });
    const work = tempDir("lily-image-contents-");
    try {
      for (const entry of loadContainerCatalog()) {
        const config = await engine.json<{ Config: { User: string; Cmd: string[] } }>({ path: `/images/${entry.image}/json` });
        assert.equal(config.Config.User, "1000:1000", entry.ref);
        assert.deepEqual(config.Config.Cmd, entry.manifest.executor.command, entry.ref);
        const [inputsDir, outputsDir] = [join(work, entry.ref, "in"), join(work, entry.ref, "out")];
        for (const d of [inputsDir, outputsDir]) mkdirSync(d, { recursive: true });
        const look = [
          "for p in /usr/bin/apt /usr/bin/perl /usr/bin/debconf /var/lib/apt/lists /usr/share/man /usr/share/locale /usr/share/info; do test -e $p && echo $p; done",
          "find /usr/share/doc -type f ! -name copyright",
          "test -x /lily/run || echo no entry program",
        ].join("; ");
        const exit = await executor.wait(
          await executor.start({
            kind: "docker",
            image: entry.image,
            command: ["/bin/sh", "-c", look],
            inputsDir,
            outputsDir,
            env: {},
            args: [],
            memoryMb: 64,
            timeoutMs: 30_000,
            cpu: 1,
            gpus: 0,
            network: false,
            outputLimitBytes: 1024 * 1024,
          }),
        );
        assert.equal(exit.exitCode, 0, entry.ref);
        assert.equal(readFileSync(join(outputsDir, "stdout"), "utf8"), "", `${entry.ref} still has these`);
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
