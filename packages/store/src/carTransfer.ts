// Moving a whole result in one round trip: a job's output files and their result manifest go up
// as one CAR (`POST /v1/car`, checked block by block by the store: carUpload.ts), and come down as
// one CAR of the manifest's DAG from the store's trustless gateway (`GET /ipfs/<cid>?format=car`).
// One request each way instead of one per block: at load, a provider and a job creator spend
// much of a trivial job's CPU on HTTP round trips. Whatever comes down is re-hashed against its
// CID here, as StoreClient.getBytes does; the gateway is not trusted.
import * as CarBufferWriter from "@ipld/car/buffer-writer";
import { CarBlockIterator } from "@ipld/car/iterator";
import { CID } from "multiformats/cid";
import { LilyError, verifyCid } from "@lily/protocol";

/** The media type of a CAR, in both directions (the gateway's answers, the client's Accept). */
export const MEDIA_TYPE_CAR = "application/vnd.ipld.car";

/** A block and its CID, as a CAR carries it. */
export interface Block {
  cid: string;
  bytes: Uint8Array;
}

/** A CARv1 of `blocks` (in order) under `roots`. */
export function carOf(roots: readonly string[], blocks: readonly Block[]): Uint8Array {
  const rootCids = roots.map((r) => CID.parse(r));
  const entries = blocks.map((b) => ({ cid: CID.parse(b.cid), bytes: b.bytes }));
  const size = CarBufferWriter.headerLength({ roots: rootCids }) + entries.reduce((n, e) => n + CarBufferWriter.blockLength(e), 0);
  const writer = CarBufferWriter.createWriter(new ArrayBuffer(size), { roots: rootCids });
  for (const e of entries) writer.write(e);
  return writer.close();
}

/**
 * The blocks of a CAR read from `chunks`, in order, each re-hashed against its CID; the first
 * must be `root` (a gateway's CAR of a DAG starts at its root). Yields as it reads: one block in
 * memory at a time. A CAR that breaks off or does not parse is UNREACHABLE (what was sent is not
 * all there: the caller may fetch the rest another way); bytes that do not hash to their CID, or a
 * CAR of another root, are CID_MISMATCH.
 */
export async function* verifiedBlocks(root: string, chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Block> {
  const brokenOff = (e: unknown) =>
    new LilyError({ code: "UNREACHABLE", message: `the store's CAR of ${root} broke off or does not parse: ${(e as Error).message}`, cause: e });
  let blocks: AsyncIterator<{ cid: CID; bytes: Uint8Array }>;
  try {
    blocks = (await CarBlockIterator.fromIterable(chunks))[Symbol.asyncIterator]();
  } catch (e) {
    throw brokenOff(e);
  }
  for (let first = true; ; first = false) {
    let next: IteratorResult<{ cid: CID; bytes: Uint8Array }>;
    try {
      next = await blocks.next();
    } catch (e) {
      throw brokenOff(e);
    }
    if (next.done) {
      if (first) throw new LilyError({ code: "CID_MISMATCH", field: "cid", message: `the store's CAR of ${root} holds no block` });
      return;
    }
    const { cid, bytes } = next.value;
    const text = cid.toString();
    // REJECT: a CAR of another DAG, or bytes that do not hash to the CID they came under
    if (first && text !== root) throw new LilyError({ code: "CID_MISMATCH", field: "cid", message: `the store's CAR of ${root} starts at ${text}` });
    if (!verifyCid(text, bytes))
      throw new LilyError({ code: "CID_MISMATCH", field: "cid", message: `the store's CAR of ${root} holds bytes that do not hash to ${text}` });
    yield { cid: text, bytes };
  }
}
