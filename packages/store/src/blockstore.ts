// Blocks on disk, one file per CID, written to a temp file and renamed so a crash never leaves a
// half-written block under a valid CID.
import { mkdirSync, existsSync, readFileSync, writeFileSync, renameSync, statSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { parseCid, LilyError, verifyCid } from "@lily/protocol";

export class BlockStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(join(dir, "tmp"), { recursive: true });
  }

  private pathOf(cid: string): string {
    const c = parseCid(cid).toString();
    return join(this.dir, c.slice(-2), c);
  }

  put(cid: string, bytes: Uint8Array): void {
    if (!verifyCid(cid, bytes)) throw new LilyError({ code: "CID_MISMATCH", field: "cid", message: `bytes do not hash to ${cid}` });
    const path = this.pathOf(cid);
    if (existsSync(path)) return;
    mkdirSync(join(path, ".."), { recursive: true });
    const tmp = join(this.dir, "tmp", randomBytes(8).toString("hex"));
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  }

  get(cid: string): Uint8Array {
    const path = this.pathOf(cid);
    if (!existsSync(path)) throw new LilyError({ code: "NOT_FOUND", field: "cid", message: `no block ${cid}` });
    return new Uint8Array(readFileSync(path));
  }

  size(cid: string): number | undefined {
    const path = this.pathOf(cid);
    return existsSync(path) ? statSync(path).size : undefined;
  }

  count(): number {
    return readdirSync(this.dir)
      .filter((d) => d !== "tmp")
      .reduce((n, d) => n + readdirSync(join(this.dir, d)).length, 0);
  }
}
