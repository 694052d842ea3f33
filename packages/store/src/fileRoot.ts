// The root record of a chunked file: a large file (a `docker save` archive of 50-300 MB) is kept
// as fixed-size raw chunks, each a block under its own CID, and one dag-json record that lists
// them in order with the total size. The file's CID is the CID of this record.
//
// Why not UnixFS proper: UnixFS roots are dag-pb (protobuf) nodes, a codec the store does not
// accept and Lily has no other use for, and its CIDs match `ipfs add` only with the same chunker,
// leaf and tree-layout settings, so compatibility would be a promise we do not test. One flat
// dag-json record is enough here (a 300 MB file at 1 MiB is 300 links, about 20 KB), and it is
// checked like every other record: by its CID, then by this schema.
import * as z from "zod";
import { parseCid, RAW_CODEC, LilyError, parse } from "@lily/protocol";

/** The chunk size `putFile` uses: small enough that a chunk is one ordinary block, large enough that a 300 MB file is a few hundred. */
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;
/** Largest chunk a root may name: within the store's default bytes body limit (64 MiB). */
export const MAX_CHUNK_BYTES = 64 * 1024 * 1024;
/** Most chunks a root may list (256 GiB at 1 MiB); keeps the root record under about 16 MB. */
export const MAX_CHUNKS = 256 * 1024;
/** Marks the record as a chunked file, so nothing else decodes as one by accident. */
export const FILE_ROOT_FORMAT = "lily-file-v1";

const rawCid = z.string().refine((s) => {
  try {
    return parseCid(s).code === RAW_CODEC;
  } catch {
    return false;
  }
}, "must be a raw CIDv1 (sha-256) content id");

export const FileRoot = z
  .object({
    format: z.literal(FILE_ROOT_FORMAT),
    /** The file's length in bytes. */
    size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    /** Every chunk is this long except the last, which holds the rest (1..chunkSize bytes). */
    chunkSize: z.number().int().positive().max(MAX_CHUNK_BYTES),
    /** The chunks' CIDs (raw), in file order. */
    chunks: z.array(rawCid).max(MAX_CHUNKS),
  })
  .strict()
  // REJECT: the chunk count must be the one the size and chunk size imply, so every chunk's length is known before it is fetched
  .refine((r) => r.chunks.length === Math.ceil(r.size / r.chunkSize), { message: "the chunk count does not match size / chunkSize", path: ["chunks"] });

export type FileRoot = z.infer<typeof FileRoot>;

/** True when `value` is a well-formed chunked-file root record. */
export function isFileRoot(value: unknown): value is FileRoot {
  return FileRoot.safeParse(value).success;
}

/** Parse a root record; INVALID_INPUT naming the field (`<what>.<path>`) when it is not one. */
export function parseFileRoot(value: unknown, what = "file root"): FileRoot {
  return parse(FileRoot, value, what);
}

/** The length chunk `i` of `root` must have. */
export function chunkLength(root: FileRoot, i: number): number {
  if (i < 0 || i >= root.chunks.length)
    throw new LilyError({ code: "INVALID_INPUT", field: "chunk", message: `chunk ${i} is outside the file's ${root.chunks.length} chunks` });
  return Math.min(root.chunkSize, root.size - i * root.chunkSize);
}
