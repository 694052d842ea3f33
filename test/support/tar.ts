// A minimal ustar writer for tests that build container images without a registry or a Dockerfile:
// files, directories and symlinks, owned by root, with a fixed mtime so the same entries always
// make the same bytes (and so the same cache key).

export type TarEntry =
  | { type: "file"; name: string; data: Uint8Array; mode?: number }
  | { type: "dir"; name: string; mode?: number }
  | { type: "symlink"; name: string; target: string };

const BLOCK = 512;

/** The archive of `entries`, in order, ending with the two zero blocks ustar requires. */
export function tarArchive(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.type === "file" ? Buffer.from(e.data) : Buffer.alloc(0);
    parts.push(header(e, data.length));
    if (data.length) parts.push(data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

function header(e: TarEntry, size: number): Buffer {
  const name = e.type === "dir" && !e.name.endsWith("/") ? `${e.name}/` : e.name;
  if (Buffer.byteLength(name) > 100) throw new Error(`tar: name longer than 100 bytes: ${name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, "utf8");
  const mode = e.type === "symlink" ? 0o777 : (e.mode ?? (e.type === "dir" ? 0o755 : 0o644));
  octal(h, 100, 8, mode);
  octal(h, 108, 8, 0); // uid
  octal(h, 116, 8, 0); // gid
  octal(h, 124, 12, size);
  octal(h, 136, 12, 0); // mtime: fixed, so the archive depends on its contents only
  h.write({ file: "0", dir: "5", symlink: "2" }[e.type], 156, 1, "ascii");
  if (e.type === "symlink") h.write(e.target, 157, 100, "utf8");
  h.write("ustar\u000000", 257, 8, "ascii");
  h.write("root", 265, 32, "ascii");
  h.write("root", 297, 32, "ascii");
  // The checksum is the byte sum of the header with its own field read as eight spaces.
  h.fill(" ", 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, 8, "ascii");
  return h;
}

function octal(h: Buffer, offset: number, length: number, value: number): void {
  h.write(`${value.toString(8).padStart(length - 1, "0")}\u0000`, offset, length, "ascii");
}
