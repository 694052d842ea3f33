// What a container task must be before the engine is asked anything: an image named by its ID, a
// command, limits Docker accepts, and nothing this provider cannot give (GPUs, the network). Each
// refusal names the field at fault, so the runner can say why in one line.
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { LilyError, imageDigest, parse } from "@lily/protocol";
import type { ContainerTaskSpec } from "../executor.ts";

/** The smallest memory limit Docker accepts, MiB. */
export const DOCKER_MIN_MEMORY_MB = 6;

/** Refuse, before anything starts, a task this executor must not or cannot run. */
export function checkContainerSpec(spec: ContainerTaskSpec, can: { gpus: number; network: boolean }): void {
  // REJECT: the image is named by its ID only; a tag (or a short ID) could name other bytes tomorrow.
  parse(imageDigest, spec.image, "image");
  if (!Array.isArray(spec.command) || spec.command.length === 0 || spec.command.some((a) => typeof a !== "string"))
    throw new LilyError({ code: "INVALID_INPUT", field: "command", message: "command: a non-empty list of strings (the program and its arguments)" });
  if (!(spec.memoryMb >= DOCKER_MIN_MEMORY_MB))
    throw new LilyError({
      code: "SANDBOX_LIMIT",
      field: "resources.memoryMb",
      message: `resources.memoryMb: ${spec.memoryMb} MiB is below the ${DOCKER_MIN_MEMORY_MB} MiB a container needs`,
    });
  if (!(Number.isSafeInteger(spec.outputLimitBytes) && spec.outputLimitBytes > 0))
    throw new LilyError({
      code: "INVALID_INPUT",
      field: "outputLimitBytes",
      message: `outputLimitBytes: a positive number of bytes, got ${spec.outputLimitBytes}`,
    });
  if (!(spec.timeoutMs > 0)) throw new LilyError({ code: "INVALID_INPUT", field: "timeoutMs", message: `timeoutMs: must be positive, got ${spec.timeoutMs}` });
  const gpus = can.gpus;
  if (spec.gpus > gpus)
    throw new LilyError({
      code: "EXECUTOR_UNAVAILABLE",
      field: "resources.gpu",
      message: `the module needs ${spec.gpus} GPU${spec.gpus === 1 ? "" : "s"} and this provider has ${gpus === 0 ? "none" : gpus}`,
    });
  if (spec.network && !can.network)
    throw new LilyError({
      code: "EXECUTOR_UNAVAILABLE",
      field: "module.executor.network",
      message: "the module needs the network and this provider runs no networked modules",
    });
}

export function checkDirectory(path: string, field: string): string {
  if (!statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
    throw new LilyError({ code: "INVALID_INPUT", field, message: `${field}: not a directory: ${path}` });
  }
  return resolve(path);
}
