// Where a Docker engine comes from: DOCKER_HOST or the standard socket when a daemon answers
// there; otherwise, when `dockerd` is installed and this process may start it (root), a private
// daemon with its own data root and socket under the caller's home, like the embedded chain; with
// neither, the reason in one line, so container modules are simply not offered.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { LilyError } from "@lily/protocol";
import { nodeHttp } from "@lily/api";

/** How to reach an engine: a unix socket path, or host and port (tcp). */
export interface DockerEndpoint {
  socketPath?: string;
  host?: string;
  port?: number;
  /** The same, in DOCKER_HOST form (unix:///path or tcp://host:port). */
  url: string;
}

export const STANDARD_SOCKET = "/var/run/docker.sock";

/** Parse a DOCKER_HOST value (unix:///path, /path, tcp://host:port). */
export function parseDockerHost(value: string): DockerEndpoint {
  if (value.startsWith("unix://")) return { socketPath: value.slice("unix://".length), url: value };
  if (value.startsWith("/")) return { socketPath: value, url: `unix://${value}` };
  const m = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(value);
  if (m) return { host: m[1], port: Number(m[2]), url: value };
  throw new LilyError({ code: "CONFIG", field: "DOCKER_HOST", message: `DOCKER_HOST must be unix:///path or tcp://host:port, got "${value}"` });
}

/** True when an engine answers `GET /_ping` at the endpoint within `timeoutMs`. */
export function pingDocker(endpoint: DockerEndpoint, timeoutMs = 2000): Promise<boolean> {
  return new Promise((done) => {
    const req = nodeHttp.request({ socketPath: endpoint.socketPath, host: endpoint.host, port: endpoint.port, path: "/_ping", timeout: timeoutMs }, (res) => {
      res.resume();
      done(res.statusCode === 200);
    });
    req.on("error", () => done(false));
    req.on("timeout", () => {
      req.destroy();
      done(false);
    });
    req.end();
  });
}

export interface DockerSource {
  endpoint: DockerEndpoint;
  /** True when this process started the daemon (and `stop` stops it). */
  started: boolean;
  /** Stop a daemon this process started; a no-op otherwise. */
  stop(): Promise<void>;
}

export interface FindDockerOptions {
  /** Where a private daemon keeps its data root, socket and log (e.g. $LILY_HOME/docker). */
  home: string;
  /** May a private daemon be started when none answers? Default true. */
  mayStart?: boolean;
  env?: NodeJS.ProcessEnv;
  /** How long a started daemon has to answer; default 30 s. */
  startTimeoutMs?: number;
  /** Progress lines for people (e.g. "starting a private Docker daemon"). */
  onProgress?: (line: string) => void;
}

/** A running engine, or the reason there is none (one line). Never throws for a missing Docker. */
export async function findOrStartDocker(opts: FindDockerOptions): Promise<DockerSource | { unavailable: string }> {
  const env = opts.env ?? process.env;
  if (env.DOCKER_HOST) {
    const endpoint = parseDockerHost(env.DOCKER_HOST);
    if (await pingDocker(endpoint)) return { endpoint, started: false, stop: async () => {} };
    return { unavailable: `no Docker engine answers at DOCKER_HOST=${env.DOCKER_HOST}` };
  }
  const standard = parseDockerHost(STANDARD_SOCKET);
  if (existsSync(STANDARD_SOCKET) && (await pingDocker(standard))) return { endpoint: standard, started: false, stop: async () => {} };
  const privateEndpoint = privateDaemonEndpoint(opts.home);
  if (await pingDocker(privateEndpoint)) return { endpoint: privateEndpoint, started: false, stop: async () => {} };
  if (opts.mayStart === false) return { unavailable: "no Docker engine is running (DOCKER_HOST is unset and nothing answers at /var/run/docker.sock)" };
  const dockerd = findOnPath("dockerd", env);
  if (!dockerd) return { unavailable: "Docker is not installed (no dockerd on PATH, DOCKER_HOST unset, nothing at /var/run/docker.sock)" };
  if (process.getuid?.() !== 0) return { unavailable: "no Docker engine is running, and starting one needs root: start Docker or set DOCKER_HOST" };
  return startPrivateDockerd(dockerd, opts);
}

/** The socket of the private daemon kept under `home`. */
export function privateDaemonEndpoint(home: string): DockerEndpoint {
  return parseDockerHost(`unix://${join(resolve(home), "docker.sock")}`);
}

async function startPrivateDockerd(dockerd: string, opts: FindDockerOptions): Promise<DockerSource | { unavailable: string }> {
  const home = resolve(opts.home);
  mkdirSync(home, { recursive: true });
  const endpoint = privateDaemonEndpoint(home);
  // The exec root holds containerd's sockets, whose paths must stay under 108 bytes, so it lives
  // in a short directory named after the home rather than inside it.
  const execRoot = join(tmpdir(), `lily-dockerd-${createHash("sha256").update(home).digest("hex").slice(0, 12)}`);
  rmSync(endpoint.socketPath!, { force: true });
  opts.onProgress?.(`starting a private Docker daemon (data in ${join(home, "data")})`);
  const log = openSync(join(home, "dockerd.log"), "a");
  const child = spawn(
    dockerd,
    [
      "--storage-driver=overlay2",
      "--bridge=none",
      "--iptables=false",
      "--ip6tables=false",
      `--data-root=${join(home, "data")}`,
      `--exec-root=${execRoot}`,
      `--pidfile=${join(home, "dockerd.pid")}`,
      `-H`,
      endpoint.url,
    ],
    { stdio: ["ignore", log, log], detached: true },
  );
  let exited: number | null = null;
  child.on("exit", (code) => {
    exited = code ?? -1;
  });
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  while (Date.now() < deadline && exited === null) {
    if (await pingDocker(endpoint, 1000)) {
      child.unref();
      return {
        endpoint,
        started: true,
        stop: () => stopDaemon(child.pid!),
      };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  if (exited === null) child.kill("SIGKILL");
  const tail = readFileSync(join(home, "dockerd.log"), "utf8").trim().split("\n").slice(-1)[0] ?? "";
  return { unavailable: `a private Docker daemon did not start (see ${join(home, "dockerd.log")}): ${tail.slice(0, 300)}` };
}

async function stopDaemon(pid: number): Promise<void> {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  // dockerd stops its containers and containerd first; give it the time it asks for.
  for (let i = 0; i < 150; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    process.kill(pid, "SIGKILL");
  } catch {}
}

function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const dirs = (env.PATH ?? "").split(":").concat(["/usr/sbin", "/usr/bin", "/sbin", "/usr/local/bin"]);
  return dirs.map((d) => join(d, name)).find((p) => existsSync(p));
}
