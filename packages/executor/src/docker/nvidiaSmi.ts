// The GPUs a provider can hand to containers, as NVIDIA's driver reports them:
// `nvidia-smi --query-gpu=index,name,memory.total,uuid --format=csv,noheader,nounits`.
// The parser also takes the header-and-units form (`--format=csv`), and a memory size the driver
// does not report ("[N/A]" on unified-memory parts like the GB10, "[Not Supported]") as 0, so no
// VRAM is promised that was never measured.
import { execFile } from "node:child_process";
import { LilyError } from "@lily/protocol";

/** One GPU as `nvidia-smi` reports it. */
export interface Gpu {
  index: number;
  name: string;
  /** Total memory, MiB; 0 where the driver does not report it. */
  memoryMb: number;
  uuid: string;
}

export const NVIDIA_SMI_ARGS = ["--query-gpu=index,name,memory.total,uuid", "--format=csv,noheader,nounits"];

const COLUMNS = ["index", "name", "memory.total", "uuid"] as const;
/** What nvidia-smi prints (exit code 6) where the driver runs and there is no GPU. */
const NO_DEVICES = /^No devices were found/m;

/** The GPUs in `nvidia-smi --query-gpu=index,name,memory.total,uuid --format=csv[,noheader][,nounits]` output. */
export function parseNvidiaSmi(csv: string): Gpu[] {
  const lines = csv
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (lines.length === 1 && NO_DEVICES.test(lines[0]!)) return [];
  let order: readonly string[] = COLUMNS;
  const header = lines[0]?.split(",").map((h) => h.replace(/\[.*\]/, "").trim());
  if (header?.some((h) => (COLUMNS as readonly string[]).includes(h))) {
    // The header names the columns, units in brackets ("memory.total [MiB]"): read them, in any order.
    lines.shift();
    order = header;
    for (const c of COLUMNS) if (!order.includes(c)) throw malformed(`the header has no ${c} column`, csv);
  }
  return lines.map((line) => {
    let cells = line.split(",").map((c) => c.trim());
    // A name with a comma in it: every other column is fixed, so the extra cells are the name's.
    if (cells.length > order.length && order === COLUMNS) cells = [cells[0]!, cells.slice(1, -2).join(", "), ...cells.slice(-2)];
    if (cells.length !== order.length) throw malformed(`expected ${order.length} columns: ${line}`, csv);
    const cell = (c: (typeof COLUMNS)[number]): string => cells[order.indexOf(c)]!;
    const index = Number(cell("index"));
    if (!Number.isInteger(index) || index < 0) throw malformed(`not a GPU index: ${cell("index")}`, csv);
    return { index, name: cell("name"), memoryMb: memoryMb(cell("memory.total"), csv), uuid: cell("uuid") };
  });
}

function memoryMb(cell: string, csv: string): number {
  if (/^\[.*\]$/.test(cell)) return 0; // [N/A], [Not Supported]: not measured, so not offered
  const m = /^(\d+(?:\.\d+)?)\s*(MiB)?$/.exec(cell);
  if (!m) throw malformed(`not a memory size in MiB: ${cell}`, csv);
  return Math.floor(Number(m[1]));
}

function malformed(why: string, csv: string): LilyError {
  return new LilyError({
    code: "INVALID_INPUT",
    field: "nvidia-smi",
    message: `nvidia-smi output not understood: ${why}`,
    details: { output: csv.slice(0, 2000) },
  });
}

export interface DetectGpusOptions {
  /** The nvidia-smi to run; default `nvidia-smi` on PATH. */
  command?: string;
  /** A wedged driver can hang nvidia-smi; default 15 s. */
  timeoutMs?: number;
}

/**
 * The machine's GPUs: none where nvidia-smi is not installed or finds no device. An nvidia-smi that
 * is installed and fails otherwise (a driver that does not answer) throws, with its own words: the
 * operator has GPUs and should know why they are not offered.
 */
export function detectGpus(opts: DetectGpusOptions = {}): Promise<Gpu[]> {
  const command = opts.command ?? "nvidia-smi";
  return new Promise((resolve, reject) => {
    execFile(command, NVIDIA_SMI_ARGS, { timeout: opts.timeoutMs ?? 15_000, env: { ...process.env, LC_ALL: "C" } }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === "ENOENT") return resolve([]);
      if (err) {
        if (NO_DEVICES.test(stdout)) return resolve([]);
        const said = `${stdout}\n${stderr}`.trim().split("\n")[0] || err.message;
        return reject(new LilyError({ code: "EXECUTOR_UNAVAILABLE", field: "gpu", message: `${command} failed: ${said}`, cause: err }));
      }
      try {
        resolve(parseNvidiaSmi(stdout));
      } catch (e) {
        reject(e);
      }
    });
  });
}
