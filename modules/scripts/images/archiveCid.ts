// The CID a `docker save` archive will have in the content store, computed from the file alone (no
// store server): the store's own `fileCid`, the very chunking `putFile` does.
import { DEFAULT_CHUNK_BYTES, fileCid } from "@lily/store";

/** The root CID `putFile(store, path)` would return, and the file's size. Reads one chunk at a time. */
export function archiveCid(path: string, chunkSize: number = DEFAULT_CHUNK_BYTES): Promise<{ cid: string; size: number }> {
  return fileCid(path, { chunkSize });
}
