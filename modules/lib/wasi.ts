// What every Lily module needs from WASI preview1, in the terms of the execution contract:
// read a job input, write a result file, read a scalar input from the environment, print, fail.
// Absolute paths are resolved against the preopened directories (/inputs, /outputs), the way
// wasi-libc does it, so modules name files exactly as the contract does.
import {
  environ_get,
  environ_sizes_get,
  errno,
  errnoToString,
  fd,
  fd_close,
  fd_prestat_dir_name,
  fd_prestat_get,
  fd_read,
  fd_write,
  iovec,
  lookupflags,
  oflags,
  path_open,
  prestat,
  prestat_dir,
  proc_exit,
  rights,
} from "bindings/wasi_snapshot_preview1";

class Preopen {
  constructor(public fd: fd, public path: string) {}
}

let preopens: Preopen[] | null = null;

/** The directories the host preopened, found by probing descriptors from 3 upwards. */
function listPreopens(): Preopen[] {
  if (preopens) return preopens!;
  const found = new Array<Preopen>();
  const stat = memory.data(8);
  for (let dir: fd = 3; fd_prestat_get(dir, changetype<prestat>(stat)) == errno.SUCCESS; dir++) {
    const len = changetype<prestat_dir>(stat).name_len;
    const name = new ArrayBuffer(<i32>len);
    if (fd_prestat_dir_name(dir, changetype<usize>(name), len) == errno.SUCCESS) {
      found.push(new Preopen(dir, String.UTF8.decode(name)));
    }
  }
  preopens = found;
  return found;
}

/** Open an absolute path under one of the preopened directories; exits with a message if it cannot. */
function open(path: string, flags: oflags, wanted: rights): fd {
  const dirs = listPreopens();
  for (let i = 0; i < dirs.length; i++) {
    const dir = dirs[i];
    if (!path.startsWith(dir.path + "/")) continue;
    const relative = String.UTF8.encode(path.substring(dir.path.length + 1));
    const opened = memory.data(4);
    const err = path_open(dir.fd, lookupflags.SYMLINK_FOLLOW, changetype<usize>(relative), relative.byteLength, flags, wanted, 0, 0, opened);
    if (err != errno.SUCCESS) fail(`cannot open ${path}: ${errnoToString(err)}`);
    return load<u32>(opened);
  }
  fail(`cannot open ${path}: not under a preopened directory`);
  return 0;
}

/** All the bytes of a file, e.g. `readFile("/inputs/file")`. */
export function readFile(path: string): Uint8Array {
  const file = open(path, 0, rights.FD_READ);
  let data = new Uint8Array(64 * 1024);
  let size = 0;
  const iov = memory.data(12);
  while (true) {
    if (size == data.length) {
      const bigger = new Uint8Array(data.length * 2);
      bigger.set(data);
      data = bigger;
    }
    changetype<iovec>(iov).buf = data.dataStart + size;
    changetype<iovec>(iov).buf_len = data.length - size;
    const err = fd_read(file, iov, 1, iov + 8);
    if (err != errno.SUCCESS) fail(`cannot read ${path}: ${errnoToString(err)}`);
    const n = load<u32>(iov + 8);
    if (n == 0) break;
    size += n;
  }
  fd_close(file);
  return data.subarray(0, size);
}

/** Create or replace a file, e.g. `writeFile("/outputs/result.json", json)`. */
export function writeFile(path: string, text: string): void {
  const file = open(path, oflags.CREAT | oflags.TRUNC, rights.FD_WRITE);
  writeAll(file, String.UTF8.encode(text), path);
  fd_close(file);
}

function writeAll(file: fd, bytes: ArrayBuffer, what: string): void {
  const iov = memory.data(12);
  let done: usize = 0;
  const total = <usize>bytes.byteLength;
  while (done < total) {
    changetype<iovec>(iov).buf = changetype<usize>(bytes) + done;
    changetype<iovec>(iov).buf_len = total - done;
    const err = fd_write(file, iov, 1, iov + 8);
    if (err != errno.SUCCESS) fail(`cannot write ${what}: ${errnoToString(err)}`);
    done += load<u32>(iov + 8);
  }
}

/** A scalar input from its INPUT_<NAME> environment variable, or `fallback` when it is absent. */
export function input(name: string, fallback: string = ""): string {
  const value = env("INPUT_" + name.toUpperCase());
  return value === null ? fallback : value;
}

/** An environment variable, or null. Reads the environment directly (it may be empty). */
export function env(key: string): string | null {
  const sizes = memory.data(8);
  if (environ_sizes_get(sizes, sizes + 4) != errno.SUCCESS) return null;
  const count = load<u32>(sizes);
  if (count == 0) return null;
  const pointers = new Uint32Array(count);
  const data = new Uint8Array(load<u32>(sizes + 4));
  if (environ_get(pointers.dataStart, data.dataStart) != errno.SUCCESS) return null;
  const prefix = key + "=";
  for (let i: u32 = 0; i < count; i++) {
    const start = pointers[i];
    let end = start;
    while (load<u8>(end) != 0) end++;
    const entry = String.UTF8.decodeUnsafe(start, end - start);
    if (entry.startsWith(prefix)) return entry.substring(prefix.length);
  }
  return null;
}

/** Write text to stdout. */
export function print(text: string): void {
  writeAll(1, String.UTF8.encode(text), "stdout");
}

/** Report an error on stderr and exit with a non-zero code. */
export function fail(message: string, code: i32 = 1): void {
  writeAll(2, String.UTF8.encode(message + "\n"), "stderr");
  proc_exit(code);
}
