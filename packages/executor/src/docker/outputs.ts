// /outputs of a container task, seen from the host. The container writes into a host directory,
// so what it leaves there is hostile until checked:
//   - measured while it runs and after (apparent sizes, so a sparse file counts at its length, as
//     it would be uploaded), with the number of entries and the path length bounded too, so a
//     flood of empty files or an endless chain of directories is stopped like one big file;
//   - settled once the container is gone (no more races): anything but regular files and
//     directories is removed, because the provider reads and uploads this directory as root and a
//     symlink `/outputs/x -> /etc/shadow` (meaningless inside the container) would be followed on
//     the host; fifos would block the reader. Set-uid/set-gid/sticky bits and group/other write
//     bits are stripped and, when the container ran as another user, ownership comes back to us.
import { chmod, lchown, lstat, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CappedBuffer } from "./demux.ts";

export interface OutputRules {
  /** The most the task may write, in bytes (the sum of its files' lengths). */
  limitBytes: number;
  /** The most files and directories it may leave. */
  maxEntries: number;
  /** The longest path under /outputs, in bytes. */
  maxPathBytes: number;
}

export interface OutputUsage {
  bytes: number;
  entries: number;
  /** Why the outputs are over the limit, when they are. */
  over?: string;
}

export interface Settled extends OutputUsage {
  /** Entries removed because they were neither regular files nor directories, as "path (kind)". */
  removed: string[];
}

/**
 * What `dir` holds, stopping at the first rule broken. While the task runs, entries may vanish or
 * change under the walk: those are skipped, and the walk only ever reads metadata, so a directory
 * swapped for a symlink mid-walk can make it count something outside, never disclose or change it.
 */
export async function measureOutputs(dir: string, rules: OutputRules): Promise<OutputUsage> {
  const usage: OutputUsage = { bytes: 0, entries: 0 };
  await walk(dir, rules, usage);
  return usage;
}

/**
 * Once the container is gone: make every entry safe to read (see the header) while measuring, and
 * if the outputs are over the limit, empty `dir`: what was written by the moment of the kill
 * depends on timing, and would be uploaded otherwise. `owner` is who the files come back to, when
 * the container ran as someone else.
 */
export async function settleOutputs(dir: string, rules: OutputRules, owner?: { uid: number; gid: number }): Promise<Settled> {
  const removed: string[] = [];
  const fix = async (path: string, rel: string, kind: Kind): Promise<void> => {
    if (kind === "other") {
      removed.push(`${rel} (${describe((await lstat(path)).mode)})`);
      return rm(path, { force: true });
    }
    if (owner) await lchown(path, owner.uid, owner.gid);
    // No set-uid, set-gid, sticky, group or other write; the owner may read (and list) it all, so
    // a directory the module closed with chmod 000 is read like any other.
    const mode = (await lstat(path)).mode & 0o755;
    await chmod(path, kind === "dir" ? mode | 0o700 : mode | 0o600);
  };
  await fix(dir, ".", "dir");
  const usage: OutputUsage = { bytes: 0, entries: 0 };
  await walk(dir, rules, usage, fix);
  if (usage.over) for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
  return { ...usage, removed: usage.over ? [] : removed };
}

/**
 * Settle /outputs once the container is gone (see outputs.ts) and save stdout and stderr in it,
 * with notes (at the end of stderr, marked [lily]) for whatever the executor cut or removed.
 */
export async function keepOutputs(
  outputsDir: string,
  rules: OutputRules,
  owner: { uid: number; gid: number } | undefined,
  stdout: CappedBuffer,
  stderr: CappedBuffer,
  notes: string[] = [],
): Promise<Settled> {
  const settled = await settleOutputs(outputsDir, rules, owner);
  for (const [name, buf] of [
    ["stdout", stdout],
    ["stderr", stderr],
  ] as const)
    if (buf.truncated) notes.push(`${name} cut at ${buf.cap} bytes (the module printed ${buf.total})`);
  if (settled.removed.length) notes.push(`not kept from /outputs (only regular files and directories are): ${settled.removed.join(", ")}`);
  if (settled.over) notes.push(`/outputs went over its limit (${settled.over}) and was emptied`);
  await saveStream(outputsDir, "stdout", stdout.bytes());
  const printed = stderr.bytes();
  const apart = printed.length > 0 && printed.at(-1) !== 0x0a && notes.length > 0 ? "\n" : "";
  await saveStream(outputsDir, "stderr", Buffer.concat([printed, Buffer.from(apart + notes.map((n) => `[lily] ${n}\n`).join(""))]));
  return settled;
}

/** Write stdout or stderr into /outputs, replacing whatever the module left under that name. */
async function saveStream(outputsDir: string, name: string, bytes: Buffer): Promise<void> {
  const path = join(outputsDir, name);
  await rm(path, { recursive: true, force: true });
  // wx: created here, never through a link (settleOutputs removed those; this says so again).
  await writeFile(path, bytes, { flag: "wx", mode: 0o644 });
}

type Kind = "file" | "dir" | "other";

/**
 * Depth-first without recursion (a hostile tree may be thousands of levels deep). With `visit`
 * (after the container is gone) each entry is visited before a directory is read; without it
 * (while the container runs) entries that vanish under the walk are skipped.
 */
async function walk(root: string, rules: OutputRules, usage: OutputUsage, visit?: (path: string, rel: string, kind: Kind) => Promise<void>): Promise<void> {
  const racing = !visit;
  const pending = [""];
  while (pending.length) {
    const relDir = pending.pop()!;
    const entries = await tolerate(readdir(join(root, relDir), { withFileTypes: true }), racing);
    for (const entry of entries ?? []) {
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      const path = join(root, rel);
      const kind: Kind = entry.isFile() ? "file" : entry.isDirectory() ? "dir" : "other";
      usage.entries++;
      if (kind === "file") usage.bytes += (await tolerate(lstat(path), racing))?.size ?? 0;
      usage.over = broken(usage, rules, rel);
      if (usage.over) return;
      await visit?.(path, rel, kind);
      if (kind === "dir") pending.push(rel);
    }
  }
}

function broken(usage: OutputUsage, rules: OutputRules, rel: string): string | undefined {
  if (usage.entries > rules.maxEntries) return `more than ${rules.maxEntries} files and directories`;
  if (Buffer.byteLength(rel) > rules.maxPathBytes) return `a path longer than ${rules.maxPathBytes} bytes`;
  if (usage.bytes > rules.limitBytes) return `more than ${rules.limitBytes} bytes`;
  return undefined;
}

/**
 * While the container runs, an entry that vanished, stopped being a directory or was closed to us
 * (chmod 000 by a module running as us) is skipped: the check after the container is gone sees it.
 */
async function tolerate<T>(p: Promise<T>, racing: boolean): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (racing && (code === "ENOENT" || code === "ENOTDIR" || code === "EACCES")) return undefined;
    throw e;
  }
}

function describe(mode: number): string {
  switch (mode & 0o170000) {
    case 0o120000:
      return "symbolic link";
    case 0o010000:
      return "fifo";
    case 0o140000:
      return "socket";
    case 0o020000:
    case 0o060000:
      return "device";
    default:
      return "special file";
  }
}
