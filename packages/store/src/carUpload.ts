// The blocks of an uploaded CAR (`POST /v1/car`), every one checked before any is stored, so a bad
// upload changes nothing: a CARv1 that parses, only CIDv1 sha-256 raw or dag-json blocks (what the
// store holds, as a single PUT would take them), each block's bytes hashing to its CID, and
// dag-json blocks in canonical form. A provider stores a job's outputs and their result manifest
// this way in one round trip instead of one per block.
import { CarBufferReader } from "@ipld/car/buffer-reader";
import { DAG_JSON_CODEC, LilyError, RAW_CODEC, decodeRecord, parseCid, verifyCid } from "@lily/protocol";
import type { Block } from "./carTransfer.ts";

/** The blocks of `car`, in its order, each verified; throws INVALID_INPUT or CID_MISMATCH naming the block. */
export function blocksOfCar(car: Uint8Array): Block[] {
  let reader: CarBufferReader;
  try {
    reader = CarBufferReader.fromBytes(car);
  } catch (e) {
    throw new LilyError({ code: "INVALID_INPUT", field: "body", message: `body: not a CARv1: ${(e as Error).message}`, cause: e });
  }
  if (reader.version !== 1) throw new LilyError({ code: "INVALID_INPUT", field: "body", message: `body: a CARv1 is taken, got version ${reader.version}` });
  return reader.blocks().map(({ cid, bytes }, i) => {
    const field = `body.blocks[${i}]`;
    const text = parseCid(cid.toString(), field).toString();
    // REJECT: only the codecs a single PUT takes; anything else is not the store's to hold
    if (cid.code !== RAW_CODEC && cid.code !== DAG_JSON_CODEC) {
      throw new LilyError({ code: "INVALID_INPUT", field, message: `${field}: codec 0x${cid.code.toString(16)} is neither raw nor dag-json` });
    }
    // REJECT: bytes that do not hash to the CID they came under
    if (!verifyCid(text, bytes)) throw new LilyError({ code: "CID_MISMATCH", field, message: `${field}: bytes do not hash to ${text}` });
    if (cid.code === DAG_JSON_CODEC) {
      try {
        decodeRecord(bytes);
      } catch (e) {
        throw new LilyError({ code: "INVALID_INPUT", field, message: `${field}: not canonical dag-json`, cause: e });
      }
    }
    return { cid: text, bytes };
  });
}
