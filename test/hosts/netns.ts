// A private network of Linux network namespaces for tests: one namespace per "host", each with
// its own loopback and one veth into a bridge that lives in a switch namespace of its own. Nothing
// touches the machine's own network namespace: no interface, route or address is added there, and
// the hosts reach nothing but each other. Names carry the test's pid so parallel runs never collide.
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Host {
  /** The namespace's name (`ip netns exec <ns> ...`). */
  ns: string;
  /** Its address on the test network. */
  ip: string;
}

export interface HostNetwork {
  hosts: Record<string, Host>;
  /** Start a long-running process inside a host; its output is collected for `waitFor`. */
  spawn(host: string, cmd: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; cwd?: string }): HostProcess;
  /** Run a command inside a host to completion. */
  exec(host: string, cmd: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number }): Promise<ExecResult>;
  /** Stop every process started in the hosts (SIGTERM, then SIGKILL) and delete every namespace. */
  destroy(): Promise<void>;
}

export interface HostProcess {
  name: string;
  child: ChildProcess;
  output(): string;
  /** Resolves with the first match of `re` in the output; rejects if the process exits first or after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const ip = (...args: string[]) => run("ip", args);

/**
 * Why namespaces cannot be made here (not root, no CAP_SYS_ADMIN / CAP_NET_ADMIN, no `ip`), or
 * undefined when they can: a probe namespace is made and deleted.
 */
export async function namespacesUnavailable(): Promise<string | undefined> {
  if (process.platform !== "linux") return `network namespaces are Linux only (this is ${process.platform})`;
  const probe = `lily-probe-${process.pid}`;
  try {
    await ip("netns", "add", probe);
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === "ENOENT") return "the `ip` command (iproute2) is not installed";
    return `\`ip netns add\` failed (${(err.stderr ?? err.message).trim()}): it needs root, or CAP_SYS_ADMIN and CAP_NET_ADMIN`;
  }
  try {
    await ip("-n", probe, "link", "add", "probe0", "type", "veth", "peer", "name", "probe1");
  } catch (e) {
    return `veth pairs cannot be made (${((e as { stderr?: string }).stderr ?? String(e)).trim()}): the kernel needs veth support`;
  } finally {
    await ip("netns", "del", probe).catch(() => {});
  }
  return undefined;
}

/**
 * Make one namespace per host name on `subnet` (a /24 given as its first three octets, e.g.
 * "10.77.0"): host i gets `<subnet>.<i + 2>`. Everything made so far is removed if a step fails.
 */
export async function createHostNetwork(names: string[], subnet = "10.77.0"): Promise<HostNetwork> {
  const tag = String(process.pid);
  const sw = `lily-sw-${tag}`;
  const hosts: Record<string, Host> = {};
  names.forEach((n, i) => {
    hosts[n] = { ns: `lily-${n}-${tag}`, ip: `${subnet}.${i + 2}` };
  });
  const made: string[] = [];
  const procs: HostProcess[] = [];

  async function destroy(): Promise<void> {
    await Promise.all(procs.map((p) => stop(p.child)));
    // Anything still inside a namespace was started by this test (through a host): end it by pid.
    for (const ns of made) {
      const pids = await ip("netns", "pids", ns).then(
        (r) => r.stdout.split(/\s+/).filter(Boolean).map(Number),
        () => [] as number[],
      );
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
    }
    for (const ns of made.reverse()) await ip("netns", "del", ns).catch(() => {});
    made.length = 0;
    process.off("exit", onExit);
  }

  // Should the test process end without after() (a crash, an exit mid-test), nothing outlives it.
  const onExit = () => {
    for (const p of procs) p.child.kill("SIGKILL");
    for (const ns of [...made].reverse()) {
      try {
        for (const pid of execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).split(/\s+/).filter(Boolean)) process.kill(Number(pid), "SIGKILL");
      } catch {}
      try {
        execFileSync("ip", ["netns", "del", ns]);
      } catch {}
    }
  };
  process.once("exit", onExit);

  try {
    await ip("netns", "add", sw);
    made.push(sw);
    await ip("-n", sw, "link", "add", "br0", "type", "bridge");
    await ip("-n", sw, "link", "set", "br0", "up");
    for (const [i, n] of names.entries()) {
      const h = hosts[n]!;
      await ip("netns", "add", h.ns);
      made.push(h.ns);
      // Both ends are made directly in their namespaces: no name ever appears in the machine's own.
      await ip("link", "add", "eth0", "netns", h.ns, "type", "veth", "peer", "name", `port${i}`, "netns", sw);
      await ip("-n", sw, "link", "set", `port${i}`, "master", "br0", "up");
      await ip("-n", h.ns, "addr", "add", `${h.ip}/24`, "dev", "eth0");
      await ip("-n", h.ns, "link", "set", "eth0", "up");
      // Each host has its own loopback, as a real machine does: 127.0.0.1 there is that host alone.
      await ip("-n", h.ns, "link", "set", "lo", "up");
    }
  } catch (e) {
    await destroy();
    throw e;
  }

  const nsOf = (host: string) => {
    const h = hosts[host];
    if (!h) throw new Error(`no host ${host}`);
    return h.ns;
  };

  return {
    hosts,
    spawn(host, cmd, args, opts = {}) {
      // `ip netns exec` execs the command in place: the child's pid is the command's own.
      const child = spawn("ip", ["netns", "exec", nsOf(host), cmd, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, ...opts.env },
        cwd: opts.cwd,
      });
      let out = "";
      child.stdout!.on("data", (d) => (out += d));
      child.stderr!.on("data", (d) => (out += d));
      const p: HostProcess = {
        name: host,
        child,
        output: () => out,
        waitFor: (re, timeoutMs = 60_000) =>
          new Promise((resolve, reject) => {
            const check = () => {
              const m = out.match(re);
              if (!m) return false;
              done();
              resolve(m);
              return true;
            };
            const onExit = (code: number | null) => {
              if (check()) return;
              done();
              reject(new Error(`${host}: ${cmd} exited (${code}) before printing ${re}:\n${out.slice(-3000)}`));
            };
            const timer = setTimeout(() => {
              done();
              reject(new Error(`${host}: ${cmd} did not print ${re} within ${timeoutMs} ms:\n${out.slice(-3000)}`));
            }, timeoutMs);
            const done = () => {
              clearTimeout(timer);
              child.stdout!.off("data", check);
              child.stderr!.off("data", check);
              child.off("exit", onExit);
            };
            if (check()) return;
            child.stdout!.on("data", check);
            child.stderr!.on("data", check);
            child.once("exit", onExit);
          }),
      };
      procs.push(p);
      return p;
    },
    exec(host, cmd, args, opts = {}) {
      return new Promise((resolve) => {
        const child = spawn("ip", ["netns", "exec", nsOf(host), cmd, ...args], {
          stdio: ["ignore", "pipe", "pipe"],
          env: { ...process.env, ...opts.env },
          cwd: opts.cwd,
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
        child.once("exit", (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
    },
    destroy,
  };
}

async function stop(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}
