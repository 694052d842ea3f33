// The filesystem policy node:wasi cannot express by itself. node:wasi (uvwasi) already confines
// every path to the preopened directories (absolute paths and `..` escapes are refused), but it
// grants full rights on every preopen. These imports narrow that:
//   - /inputs is read-only: what is opened under it gets read rights only (and so do the files
//     and directories opened through those), and nothing directly in it can be created,
//     truncated, renamed, removed or re-timed;
//   - no links: a symlink left in /outputs could point the host outside the sandbox when it
//     stores the outputs, and a hard link could alias an input;
//   - the host's descriptors stay the host's: stdio cannot be closed, nothing can be renumbered.
// Kept free of dependencies: it runs inside the sandbox worker.
import type { WASI } from "node:wasi";

type WasiFunction = (...args: never[]) => number;

const ERRNO = { SUCCESS: 0, NOTSUP: 58, PERM: 63, ROFS: 69 } as const;
const OFLAGS_CREAT_EXCL_TRUNC = 0x1 | 0x4 | 0x8;
// fd_read, fd_seek, fd_tell, fd_advise, path_open, fd_readdir, path_readlink, path_filestat_get,
// fd_filestat_get, poll_fd_readwrite
const READ_RIGHTS = 0x2n | 0x4n | 0x20n | 0x80n | 0x2000n | 0x4000n | 0x8000n | 0x40000n | 0x200000n | 0x8000000n;

/** The WASI imports for a module whose preopened descriptor `inputsFd` is the read-only /inputs. */
export function sandboxImports(wasi: WASI, inputsFd: number): WebAssembly.Imports {
  const real = (wasi.getImportObject() as { wasi_snapshot_preview1: Record<string, (...args: unknown[]) => number> }).wasi_snapshot_preview1;
  const call = (name: string, args: unknown[]) => real[name]!(...args);
  // A path call is refused with ROFS when one of its directory descriptors is /inputs.
  const readOnlyAt =
    (name: string, ...dirArgs: number[]) =>
    (...args: number[]) =>
      dirArgs.some((i) => args[i] === inputsFd) ? ERRNO.ROFS : call(name, args);

  const policy: Record<string, WasiFunction> = {
    path_open: (dirfd: number, dirflags: number, path: number, len: number, oflags: number, base: bigint, inheriting: bigint, fdflags: number, out: number) => {
      if (dirfd !== inputsFd) return call("path_open", [dirfd, dirflags, path, len, oflags, base, inheriting, fdflags, out]);
      if (oflags & OFLAGS_CREAT_EXCL_TRUNC) return ERRNO.ROFS;
      return call("path_open", [dirfd, dirflags, path, len, oflags, base & READ_RIGHTS, inheriting & READ_RIGHTS, fdflags, out]);
    },
    path_create_directory: readOnlyAt("path_create_directory", 0),
    path_filestat_set_times: readOnlyAt("path_filestat_set_times", 0),
    path_remove_directory: readOnlyAt("path_remove_directory", 0),
    path_unlink_file: readOnlyAt("path_unlink_file", 0),
    path_rename: readOnlyAt("path_rename", 0, 3),
    path_link: () => ERRNO.PERM,
    path_symlink: () => ERRNO.PERM,
    fd_close: (fd: number) => (fd <= 2 ? ERRNO.SUCCESS : call("fd_close", [fd])),
    fd_renumber: () => ERRNO.NOTSUP,
  };
  return { wasi_snapshot_preview1: { ...real, ...policy } };
}
