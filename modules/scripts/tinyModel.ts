// The tiny GGUF model the devnet and the tests run: a llama-architecture network with random
// weights from a fixed seed and a byte-fallback SentencePiece vocabulary, written by hand so that
// nothing is downloaded and every build produces the same bytes. Its text is noise; it exists so
// the whole inference path (tokenizer, sampling, streaming, receipts, audits) runs for real.
// Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md (GGUF v3, little-endian).
//
// One trick keeps the noise printable: every token embedding carries the same constant in
// dimension 0 and no layer writes to that dimension, so after the final RMS norm dimension 0 is
// always positive; the output rows of control and byte tokens weigh it strongly negative. Greedy
// and sampled output alike are then made of printable ASCII pieces and "▁" (a space).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface TinyModelOptions {
  /** Seeds the weights; the same seed always gives the same file. */
  seed?: number;
  layers?: number;
  embedding?: number;
  heads?: number;
  feedForward?: number;
  contextLength?: number;
}

export interface WrittenModel {
  path: string;
  sizeBytes: number;
  sha256: string;
  /** False when the file already held these exact bytes and was left alone. */
  written: boolean;
}

/** The name the tiny model goes by (general.name), and its file under modules/dist/models/. */
export const TINY_MODEL_NAME = "lily-tiny-llama";
export const TINY_MODEL_FILE = "tiny-llama.gguf";

const DEFAULTS: Required<TinyModelOptions> = { seed: 0x1111, layers: 2, embedding: 64, heads: 4, feedForward: 128, contextLength: 512 };

// A chat template node-llama-cpp renders with its Jinja engine (any llama.cpp-based server can too).
const CHAT_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";

// GGUF metadata value types and ggml tensor types used here.
const GGUF_UINT32 = 4;
const GGUF_INT32 = 5;
const GGUF_FLOAT32 = 6;
const GGUF_BOOL = 7;
const GGUF_STRING = 8;
const GGUF_ARRAY = 9;
const GGML_F32 = 0;
const ALIGNMENT = 32;

// SentencePiece token types as llama.cpp reads them.
const TYPE_NORMAL = 1;
const TYPE_UNKNOWN = 2;
const TYPE_CONTROL = 3;
const TYPE_BYTE = 6;

type Value =
  | { type: "u32"; value: number }
  | { type: "f32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "str"; value: string }
  | { type: "str[]"; value: string[] }
  | { type: "f32[]"; value: number[] }
  | { type: "i32[]"; value: number[] };

interface Tensor {
  name: string;
  /** ggml order: dims[0] is the row length (the input size of a weight matrix). */
  dims: number[];
  data: Float32Array;
}

/** The vocabulary: <unk>, <s>, </s>, the 256 byte tokens, "▁" (space), then printable ASCII. */
function vocabulary(): { tokens: string[]; scores: number[]; types: number[]; printableFrom: number } {
  const tokens = ["<unk>", "<s>", "</s>"];
  const types = [TYPE_UNKNOWN, TYPE_CONTROL, TYPE_CONTROL];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(TYPE_BYTE);
  }
  const printableFrom = tokens.length;
  tokens.push("\u2581");
  types.push(TYPE_NORMAL);
  for (let c = 0x21; c <= 0x7e; c++) {
    tokens.push(String.fromCharCode(c));
    types.push(TYPE_NORMAL);
  }
  // Scores only rank merges; single characters never merge, so any fixed values do.
  const scores = tokens.map((_, i) => (i < printableFrom ? 0 : -i));
  return { tokens, scores, types, printableFrom };
}

/**
 * mulberry32: integer-only, so the weights are the same on every machine and Node version (and the
 * chaos test's kill schedule replays from its seed).
 */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function tensors(o: Required<TinyModelOptions>, vocab: ReturnType<typeof vocabulary>): Tensor[] {
  const next = random(o.seed);
  const uniform = (n: number, scale: number) => Float32Array.from({ length: n }, () => (next() * 2 - 1) * scale);
  const ones = (n: number) => new Float32Array(n).fill(1);
  // A weight matrix with input size `rows` and output size `cols`; Xavier-like scale keeps activations alive.
  const matrix = (name: string, rows: number, cols: number, gain = 1) => ({ name, dims: [rows, cols], data: uniform(rows * cols, gain * Math.sqrt(3 / rows)) });
  // Output row 0 is what lands on residual dimension 0: zero it so that dimension stays constant.
  const sparingDim0 = (t: Tensor) => {
    t.data.fill(0, 0, t.dims[0]);
    return t;
  };
  const n = vocab.tokens.length;
  const e = o.embedding;

  const embd = uniform(e * n, 1);
  for (let t = 0; t < n; t++) embd[t * e] = 3;
  const out: Tensor[] = [{ name: "token_embd.weight", dims: [e, n], data: embd }];
  for (let l = 0; l < o.layers; l++) {
    const p = `blk.${l}.`;
    out.push(
      { name: `${p}attn_norm.weight`, dims: [e], data: ones(e) },
      matrix(`${p}attn_q.weight`, e, e),
      matrix(`${p}attn_k.weight`, e, e),
      matrix(`${p}attn_v.weight`, e, e),
      sparingDim0(matrix(`${p}attn_output.weight`, e, e)),
      { name: `${p}ffn_norm.weight`, dims: [e], data: ones(e) },
      matrix(`${p}ffn_gate.weight`, e, o.feedForward),
      sparingDim0(matrix(`${p}ffn_down.weight`, o.feedForward, e)),
      matrix(`${p}ffn_up.weight`, e, o.feedForward),
    );
  }
  const output = matrix("output.weight", e, n, 2);
  for (let t = 0; t < n; t++) output.data[t * e] = t < vocab.printableFrom ? -6 : 0;
  out.push({ name: "output_norm.weight", dims: [e], data: ones(e) }, output);
  return out;
}

function metadata(o: Required<TinyModelOptions>, vocab: ReturnType<typeof vocabulary>): [string, Value][] {
  return [
    ["general.architecture", { type: "str", value: "llama" }],
    ["general.name", { type: "str", value: TINY_MODEL_NAME }],
    ["general.description", { type: "str", value: "Random weights for tests and the devnet: its text is noise." }],
    ["general.license", { type: "str", value: "CC0-1.0" }],
    ["general.file_type", { type: "u32", value: 0 }], // all F32
    ["general.alignment", { type: "u32", value: ALIGNMENT }],
    ["llama.context_length", { type: "u32", value: o.contextLength }],
    ["llama.embedding_length", { type: "u32", value: o.embedding }],
    ["llama.block_count", { type: "u32", value: o.layers }],
    ["llama.feed_forward_length", { type: "u32", value: o.feedForward }],
    ["llama.attention.head_count", { type: "u32", value: o.heads }],
    ["llama.attention.head_count_kv", { type: "u32", value: o.heads }],
    ["llama.attention.layer_norm_rms_epsilon", { type: "f32", value: 1e-5 }],
    ["llama.rope.dimension_count", { type: "u32", value: o.embedding / o.heads }],
    ["llama.rope.freq_base", { type: "f32", value: 10000 }],
    ["llama.vocab_size", { type: "u32", value: vocab.tokens.length }],
    ["tokenizer.ggml.model", { type: "str", value: "llama" }],
    ["tokenizer.ggml.tokens", { type: "str[]", value: vocab.tokens }],
    ["tokenizer.ggml.scores", { type: "f32[]", value: vocab.scores }],
    ["tokenizer.ggml.token_type", { type: "i32[]", value: vocab.types }],
    ["tokenizer.ggml.unknown_token_id", { type: "u32", value: 0 }],
    ["tokenizer.ggml.bos_token_id", { type: "u32", value: 1 }],
    ["tokenizer.ggml.eos_token_id", { type: "u32", value: 2 }],
    ["tokenizer.ggml.add_bos_token", { type: "bool", value: true }],
    ["tokenizer.ggml.add_eos_token", { type: "bool", value: false }],
    ["tokenizer.chat_template", { type: "str", value: CHAT_TEMPLATE }],
  ];
}

/** Appends little-endian GGUF fields to a growing list of byte chunks. */
class Writer {
  readonly chunks: Uint8Array[] = [];
  length = 0;
  bytes(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  private scalar(size: number, set: (v: DataView) => void): void {
    const b = new Uint8Array(size);
    set(new DataView(b.buffer));
    this.bytes(b);
  }
  u32(v: number): void {
    this.scalar(4, (d) => d.setUint32(0, v, true));
  }
  i32(v: number): void {
    this.scalar(4, (d) => d.setInt32(0, v, true));
  }
  u64(v: number): void {
    this.scalar(8, (d) => d.setBigUint64(0, BigInt(v), true));
  }
  f32(v: number): void {
    this.scalar(4, (d) => d.setFloat32(0, v, true));
  }
  str(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  pad(): void {
    const extra = (ALIGNMENT - (this.length % ALIGNMENT)) % ALIGNMENT;
    if (extra) this.bytes(new Uint8Array(extra));
  }
  value(v: Value): void {
    const array = (type: number, items: unknown[], each: (x: never) => void) => {
      this.u32(GGUF_ARRAY);
      this.u32(type);
      this.u64(items.length);
      for (const x of items) each(x as never);
    };
    switch (v.type) {
      case "u32":
        this.u32(GGUF_UINT32);
        return this.u32(v.value);
      case "f32":
        this.u32(GGUF_FLOAT32);
        return this.f32(v.value);
      case "bool":
        this.u32(GGUF_BOOL);
        return this.bytes(Uint8Array.of(v.value ? 1 : 0));
      case "str":
        this.u32(GGUF_STRING);
        return this.str(v.value);
      case "str[]":
        return array(GGUF_STRING, v.value, (s: string) => this.str(s));
      case "f32[]":
        return array(GGUF_FLOAT32, v.value, (x: number) => this.f32(x));
      case "i32[]":
        return array(GGUF_INT32, v.value, (x: number) => this.i32(x));
    }
  }
}

/** The model file's bytes: the same for the same options, always. */
export function tinyModelBytes(opts: TinyModelOptions = {}): Uint8Array {
  const o = { ...DEFAULTS, ...opts };
  const vocab = vocabulary();
  const kv = metadata(o, vocab);
  const ts = tensors(o, vocab);
  const w = new Writer();
  w.bytes(new TextEncoder().encode("GGUF"));
  w.u32(3);
  w.u64(ts.length);
  w.u64(kv.length);
  for (const [key, value] of kv) {
    w.str(key);
    w.value(value);
  }
  // Tensor offsets are relative to the data section and each aligned.
  let offset = 0;
  for (const t of ts) {
    w.str(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(GGML_F32);
    w.u64(offset);
    offset += Math.ceil(t.data.byteLength / ALIGNMENT) * ALIGNMENT;
  }
  w.pad();
  for (const t of ts) {
    const le = new Uint8Array(t.data.byteLength);
    const view = new DataView(le.buffer);
    for (const [i, x] of t.data.entries()) view.setFloat32(i * 4, x, true);
    w.bytes(le);
    w.pad();
  }
  const file = new Uint8Array(w.length);
  let at = 0;
  for (const c of w.chunks) {
    file.set(c, at);
    at += c.length;
  }
  return file;
}

/** Write the tiny model to `path`, leaving the file alone when it already holds these bytes. */
export function writeTinyModel(path: string, opts: TinyModelOptions = {}): WrittenModel {
  const bytes = tinyModelBytes(opts);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const same = existsSync(path) && createHash("sha256").update(readFileSync(path)).digest("hex") === sha256;
  if (!same) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
  }
  return { path, sizeBytes: bytes.length, sha256, written: !same };
}

/** Where the build puts it: modules/dist/models/tiny-llama.gguf. */
export const TINY_MODEL_PATH = join(dirname(dirname(fileURLToPath(import.meta.url))), "dist", "models", TINY_MODEL_FILE);

if (import.meta.main) {
  const out = writeTinyModel(process.argv[2] ?? TINY_MODEL_PATH);
  console.log(
    `${TINY_MODEL_FILE.padEnd(18)} ${out.written ? "written " : "unchanged"}   ${(out.sizeBytes / 1024).toFixed(1)} KiB  sha256 ${out.sha256.slice(0, 16)}…`,
  );
}
