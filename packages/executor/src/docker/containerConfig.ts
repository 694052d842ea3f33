// The Engine API's container definition for one task (POST /containers/create), as a pure function
// of the task and the executor's settings, so what a container may do is read in one place.
// Every setting assumes the image is hostile: it was written by whoever published the module.
import type { ContainerTaskSpec } from "../executor.ts";

/** The label every task's container carries, with the task's id: how a container is found again. */
export const TASK_LABEL = "lily.task";

export interface ContainerSettings {
  /** uid:gid the command runs as; never the image's own USER, which may be root. */
  user: string;
  pidsLimit: number;
  tmpMb: number;
  /** The network a task that asks for one joins (when the executor allows networked tasks). */
  network: string;
}

/** The body of POST /containers/create for `spec`, labelled with `taskId`. */
export function containerConfig(spec: ContainerTaskSpec, settings: ContainerSettings, taskId: string): Record<string, unknown> {
  const memory = spec.memoryMb * 1024 * 1024;
  return {
    Image: spec.image,
    // The command is the whole argv: an ENTRYPOINT in the image would run something the manifest
    // does not name (an empty list, unlike an absent one, replaces the image's).
    Entrypoint: [],
    Cmd: spec.command,
    // Only the job's environment. Docker still adds the image's own ENV (part of the pinned image,
    // so part of the module) and HOSTNAME; nothing comes from the provider.
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    User: settings.user,
    Hostname: "lily",
    Labels: { [TASK_LABEL]: taskId },
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: false,
    Tty: false,
    HostConfig: {
      // No network unless the module asked and the provider allows it: nothing to exfiltrate
      // inputs to, nothing on the provider's loopback or LAN to reach.
      NetworkMode: spec.network ? settings.network : "none",
      // Nothing in the image can be changed; /outputs and the memory-backed /tmp are the only
      // places a module writes.
      ReadonlyRootfs: true,
      // No capabilities: no chown, mknod, raw sockets, mounts, ptrace...; with no-new-privileges a
      // set-uid binary in the image gains nothing (and the default seccomp profile stays on).
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      Privileged: false,
      // Memory with no swap on top; /tmp and /dev/shm are tmpfs, charged to the same limit.
      Memory: memory,
      MemorySwap: memory,
      // Of a host-wide shortage, a job is the first victim, not the provider; a process without
      // CAP_SYS_RESOURCE cannot lower this.
      OomScoreAdj: 1000,
      ...(spec.cpu > 0 && { NanoCpus: Math.round(spec.cpu * 1e9) }),
      // A fork bomb meets this ceiling instead of the host's process table.
      PidsLimit: settings.pidsLimit,
      Ulimits: [
        // No single file may outgrow the output limit (one byte over, so the check sees it): a
        // module writing faster than /outputs is measured cannot fill the provider's disk.
        { Name: "fsize", Soft: spec.outputLimitBytes + 1, Hard: spec.outputLimitBytes + 1 },
        { Name: "nofile", Soft: 4096, Hard: 4096 },
      ],
      Tmpfs: { "/tmp": `rw,nosuid,nodev,size=${settings.tmpMb}m,mode=1777` },
      IpcMode: "private",
      ShmSize: settings.tmpMb * 1024 * 1024,
      Mounts: [
        // `Mounts`, not `Binds`: a missing source is an error rather than an empty directory the
        // daemon creates, and a path with a colon is not misread.
        { Type: "bind", Source: spec.inputsDir, Target: "/inputs", ReadOnly: true },
        { Type: "bind", Source: spec.outputsDir, Target: "/outputs", ReadOnly: false },
      ],
      // The executor reads stdout and stderr from the attach stream, capped; a log driver would
      // keep everything the module prints on the daemon's disk.
      LogConfig: { Type: "none", Config: {} },
      ...(spec.gpus > 0 && { DeviceRequests: [{ Driver: "nvidia", Count: spec.gpus, Capabilities: [["gpu"]] }] }),
    },
  };
}
