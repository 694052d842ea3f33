// The Engine API calls the Docker executor makes about one image, network or container, with the
// engine's answers checked and its refusals turned into LilyErrors that name the field at fault.
import * as z from "zod";
import { LilyError, parse } from "@lily/protocol";
import { EngineError, type DockerEngine } from "./engine.ts";

const WaitResponse = z.object({ StatusCode: z.number().int(), Error: z.object({ Message: z.string() }).nullish() });
const InspectResponse = z.object({ State: z.object({ ExitCode: z.number().int(), OOMKilled: z.boolean(), Error: z.string().optional() }) });

/** What the executor reads of a container's state once it has exited. */
export type ContainerState = z.infer<typeof InspectResponse>["State"];

/** The image must be on the engine, and be exactly the one named. */
export async function requireImage(engine: DockerEngine, image: string): Promise<void> {
  let id: string;
  try {
    id = (await engine.json<{ Id: string }>({ path: `/images/${image}/json` })).Id;
  } catch (e) {
    if (e instanceof EngineError && e.status === 404)
      throw new LilyError({
        code: "NOT_FOUND",
        field: "image",
        message: `image ${image} is not on the Docker engine at ${engine.endpoint.url}`,
        hint: "load the module's image first (its archive from the store)",
        cause: e,
      });
    throw engineRefused(e, "look up the image");
  }
  if (id !== image) throw new LilyError({ code: "IMAGE_MISMATCH", field: "image", message: `the engine resolved ${image} to another image, ${id}` });
}

export async function requireNetwork(engine: DockerEngine, network: string): Promise<void> {
  try {
    await engine.json({ path: `/networks/${encodeURIComponent(network)}` });
  } catch (e) {
    if (e instanceof EngineError && e.status === 404)
      throw new LilyError({
        code: "EXECUTOR_UNAVAILABLE",
        field: "module.executor.network",
        message: `the module needs the network and the Docker engine has no network "${network}"`,
        cause: e,
      });
    throw engineRefused(e, "look up the network");
  }
}

export async function inspectContainer(engine: DockerEngine, container: string): Promise<{ State: ContainerState }> {
  return parse(InspectResponse, await engine.json({ path: `/containers/${container}/json` }), "the engine's container record");
}

/** Resolves once the container is not running (at once if it has exited already). */
export async function waitContainer(engine: DockerEngine, container: string): Promise<void> {
  parse(WaitResponse, await engine.json({ method: "POST", path: `/containers/${container}/wait` }), "the engine's wait answer");
}

/** Remove the container and its anonymous volumes; one already gone (or going) is fine. */
export async function removeContainer(engine: DockerEngine, container: string): Promise<void> {
  try {
    await engine.json({ method: "DELETE", path: `/containers/${container}`, query: { force: true, v: true } });
  } catch (e) {
    if (e instanceof EngineError && (e.status === 404 || e.status === 409)) return;
    throw e;
  }
}

/** An engine's refusal as a LilyError (other errors pass through); `details.container` names a container it had made. */
export function engineRefused(e: unknown, what: string, field = "docker", details?: { container: string }): unknown {
  if (!(e instanceof EngineError)) return e;
  return new LilyError({ code: "EXECUTOR_UNAVAILABLE", field, message: `the Docker engine could not ${what}: ${e.message}`, details, cause: e });
}
