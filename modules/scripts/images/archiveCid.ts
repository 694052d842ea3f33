// The CID a `docker save` archive will have in the content store, computed from the file alone (no
// store server): the store keeps a large file as raw chunks of DEFAULT_CHUNK_BYTES and one dag-json
// root record listing them (@lily/store fileRoot.ts), and the file's CID is the CID of that record.
// TODO(store): use the store's own `fileCid(path)` once it exports one; until then this follows
// `putFile` step for step, and test/modules/archiveCid.test.ts checks that both give the same CID.
import { open } from "node:fs/promises";
import { cidForBytes, cidForRecord } from "@lily/protocol";
import { DEFAULT_CHUNK_BYTES, FILE_ROOT_FORMAT, type FileRoot } from "@lily/store";

/** The root CID `putFile(store, path)` would return, and the file's size. Reads one chunk at a time. */
export async function archiveCid(path: string, chunkSize: number = DEFAULT_CHUNK_BYTES): Promise<{ cid: string; size: number }> {
  const chunks: string[] = [];
  let size = 0;
  const handle = await open(path, "r");
  try {
    const buffer = new Uint8Array(chunkSize);
    for (;;) {
      let filled = 0;
      while (filled < chunkSize) {
        const { bytesRead } = await handle.read(buffer, filled, chunkSize - filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled === 0) break;
      chunks.push(cidForBytes(buffer.subarray(0, filled)));
      size += filled;
      if (filled < chunkSize) break;
    }
  } finally {
    await handle.close();
  }
  const root: FileRoot = { format: FILE_ROOT_FORMAT, size, chunkSize, chunks };
  return { cid: cidForRecord(root).cid, size };
}
