// The engine's multiplexed output stream: frames split and joined anywhere come back whole, in
// order, per stream; what is printed past the cap is counted, not kept.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CappedBuffer, createDemuxer, type StreamKind } from "../src/docker/demux.ts";

/** One frame as the engine writes it: [stream, 0, 0, 0, size uint32 BE] then the payload. */
function frame(stream: number, payload: string): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

function demux(chunks: Buffer[]): { stdout: string; stderr: string; partial: boolean } {
  const got: Record<StreamKind, Buffer[]> = { stdout: [], stderr: [] };
  const d = createDemuxer((kind, chunk) => got[kind].push(Buffer.from(chunk)));
  for (const c of chunks) d.write(c);
  return { stdout: Buffer.concat(got.stdout).toString(), stderr: Buffer.concat(got.stderr).toString(), partial: d.end().partial };
}

const stream = Buffer.concat([frame(1, "hello "), frame(2, "oops\n"), frame(1, ""), frame(0, "stdin is dropped"), frame(1, "world\n"), frame(2, "é")]);

test("frames are demultiplexed into stdout and stderr, in order", () => {
  assert.deepEqual(demux([stream]), { stdout: "hello world\n", stderr: "oops\né", partial: false });
});

test("a stream cut at every possible byte gives the same result", () => {
  for (let cut = 1; cut < stream.length; cut++) {
    assert.deepEqual(demux([stream.subarray(0, cut), stream.subarray(cut)]), { stdout: "hello world\n", stderr: "oops\né", partial: false }, `cut at ${cut}`);
  }
  const bytes = [...stream].map((b) => Buffer.from([b]));
  assert.deepEqual(demux(bytes), { stdout: "hello world\n", stderr: "oops\né", partial: false });
});

test("a stream that stops inside a frame says so", () => {
  assert.equal(demux([stream.subarray(0, 10)]).partial, true);
  assert.equal(demux([stream.subarray(0, 3)]).partial, true);
});

test("a capped buffer keeps the first bytes up to its cap and counts the rest", () => {
  const b = new CappedBuffer(5);
  for (const s of ["abc", "defg", "hij"]) b.push(Buffer.from(s));
  assert.deepEqual([b.bytes().toString(), b.total, b.truncated], ["abcde", 10, true]);
  const small = new CappedBuffer(5);
  small.push(Buffer.from("abcde"));
  assert.deepEqual([small.bytes().toString(), small.truncated], ["abcde", false]);
});
