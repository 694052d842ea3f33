// wordcount: lines, words and bytes of an input file, and its most frequent words.
// Words are runs of letters and digits, lower-cased; everything else separates them.
import { fail, input, print, readFile, writeFile } from "../../lib/wasi";

/** Letters and digits: ASCII ones, and any non-ASCII code point that is not punctuation or a symbol. */
function isWordChar(c: i32): bool {
  if (c < 0x80) return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  if (c <= 0xbf || c == 0xd7 || c == 0xf7) return false; // Latin-1 punctuation, ×, ÷
  if (c >= 0x2000 && c <= 0x2bff) return false; // general punctuation, arrows, maths, shapes
  if (c >= 0x3000 && c <= 0x303f) return false; // CJK punctuation
  if (c >= 0xd800 && c <= 0xdfff) return true; // surrogate halves keep astral letters whole
  if (c >= 0xfe30 && c <= 0xfe4f) return false; // CJK compatibility forms
  return c != 0xfeff && !(c >= 0xff00 && c <= 0xff0f);
}

class WordCount {
  constructor(public word: string, public count: i32) {}
}

function byCountThenWord(a: WordCount, b: WordCount): i32 {
  if (a.count != b.count) return b.count - a.count;
  return a.word < b.word ? -1 : a.word > b.word ? 1 : 0;
}

const topText = input("top", "10");
const top = I32.parseInt(topText);
if (top < 0 || top.toString() != topText) fail(`inputs.top: expected a non-negative integer, got "${topText}"`, 2);

const bytes = readFile("/inputs/file");
const text = String.UTF8.decodeUnsafe(bytes.dataStart, bytes.length);

let lines = 0;
let words = 0;
const counts = new Map<string, i32>();
let start = -1; // where the current word began, or -1 between words
for (let i = 0; i < text.length; i++) {
  const c = text.charCodeAt(i);
  if (c == 10) lines++;
  if (isWordChar(c)) {
    if (start < 0) start = i;
  } else if (start >= 0) {
    count(text.substring(start, i));
    start = -1;
  }
}
if (start >= 0) count(text.substring(start));

function count(word: string): void {
  const w = word.toLowerCase();
  counts.set(w, counts.has(w) ? counts.get(w) + 1 : 1);
  words++;
}

const keys = counts.keys();
const ranked = new Array<WordCount>(keys.length);
for (let i = 0; i < keys.length; i++) ranked[i] = new WordCount(keys[i], counts.get(keys[i]));
ranked.sort(byCountThenWord);

let json = `{"lines":${lines},"words":${words},"bytes":${bytes.length},"top":[`;
for (let i = 0; i < min(top, ranked.length); i++) {
  json += `${i > 0 ? "," : ""}["${ranked[i].word}",${ranked[i].count}]`; // word characters never need escaping
}
writeFile("/outputs/wordcount.json", json + "]}\n");
print(`${lines} lines, ${words} words, ${bytes.length} bytes, ${counts.size} distinct words\n`);
