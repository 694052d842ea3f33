// Run the real `lily` command as a process in a temporary home, to completion.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const LILY = fileURLToPath(new URL("../bin/lily.js", import.meta.url));

export const tempHome = () => mkdtempSync(join(tmpdir(), "lily-cli-"));

export function lily(home: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [LILY, "--home", home, ...args], { encoding: "utf8", env: { ...process.env, LILY_LOG_LEVEL: "warn" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stderr.split("\n").filter(Boolean) };
}
