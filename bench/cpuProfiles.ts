// Where each role's CPU went, from the V8 CPU profiles its processes wrote (`node --cpu-prof`):
// self time summed by package (a workspace package's folder, a dependency's name, or node's own
// internals), per role (all providers together). Profiles cover a process's whole life, its
// start included; the bench says so where it prints them.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A role by the sources its process ran. */
const ROLES: [string, string][] = [
  ["packages/provider/src/provider.ts", "providers"],
  ["packages/solver/src/solver.ts", "solver"],
  ["packages/gateway/src/", "gateway"],
  ["packages/mediator/src/", "mediator"],
  ["packages/cli/src/commands/devnet.ts", "devnet supervisor"],
  ["packages/store/src/", "store"],
];

function bucket(url: string, fn: string): string {
  if (url === "") return fn; // (garbage collector), (program), native calls such as writev
  const nm = url.split("node_modules/").pop()!;
  if (nm !== url) return nm.startsWith("@") ? nm.split("/").slice(0, 2).join("/") : nm.split("/")[0]!;
  const pkg = /packages\/([^/]+)\/src\/(.+)$/.exec(url);
  if (pkg) return `@lily/${pkg[1]} ${pkg[2]}`;
  if (url.startsWith("node:")) return "node internals";
  return url.replace(/^file:\/\/\/work\/main\//, "");
}

export interface RoleProfile {
  role: string;
  processes: number;
  /** Non-idle sampled ms over the processes' whole lives. */
  busyMs: number;
  top: { what: string; ms: number }[];
}

export function readProfiles(dir: string, topN = 8): RoleProfile[] {
  const roles = new Map<string, { processes: number; busy: number; by: Map<string, number> }>();
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))) {
    const p = JSON.parse(readFileSync(join(dir, f), "utf8")) as Profile;
    const urls = p.nodes.map((n) => n.callFrame.url);
    const role = ROLES.find(([src]) => urls.some((u) => u.includes(src)))?.[1];
    if (!role) continue; // worker threads and short-lived commands
    const r = roles.get(role) ?? { processes: 0, busy: 0, by: new Map<string, number>() };
    r.processes++;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    for (let i = 0; i < p.samples.length; i++) {
      const n = byId.get(p.samples[i]!)!;
      if (n.callFrame.functionName === "(idle)") continue;
      const ms = p.timeDeltas[i]! / 1000;
      const key = bucket(n.callFrame.url, n.callFrame.functionName);
      r.by.set(key, (r.by.get(key) ?? 0) + ms);
      r.busy += ms;
    }
    roles.set(role, r);
  }
  return [...roles].map(([role, r]) => ({
    role,
    processes: r.processes,
    busyMs: r.busy,
    top: [...r.by]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([what, ms]) => ({ what, ms })),
  }));
}
