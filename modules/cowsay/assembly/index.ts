// cowsay: a cow says the message in a speech bubble, word-wrapped at 40 columns.
import { input, print } from "../../lib/wasi";

const WIDTH = 40;

const COW = `        \\   ^__^
         \\  (oo)\\_______
            (__)\\       )\\/\\
                ||----w |
                ||     ||
`;

/** Columns a string takes: one per code point (a surrogate pair is one character). */
function columns(s: string): i32 {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

/** Split a word longer than the bubble into pieces of WIDTH columns. */
function chop(word: string): string[] {
  const pieces = new Array<string>();
  let start = 0;
  let cols = 0;
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) continue; // the second half of a pair stays with the first
    if (cols == WIDTH) {
      pieces.push(word.substring(start, i));
      start = i;
      cols = 0;
    }
    cols++;
  }
  pieces.push(word.substring(start));
  return pieces;
}

/** Greedy word wrap: words are separated by single spaces, lines keep the message's line breaks. */
function wrap(message: string): string[] {
  const lines = new Array<string>();
  const paragraphs = message.replaceAll("\r", "").replaceAll("\t", " ").split("\n");
  for (let p = 0; p < paragraphs.length; p++) {
    const words = paragraphs[p].split(" ");
    let line = "";
    let cols = 0;
    for (let w = 0; w < words.length; w++) {
      if (words[w].length == 0) continue;
      const pieces = chop(words[w]);
      for (let k = 0; k < pieces.length; k++) {
        const piece = pieces[k];
        const width = columns(piece);
        if (cols > 0 && cols + 1 + width > WIDTH) {
          lines.push(line);
          line = "";
          cols = 0;
        }
        line = cols > 0 ? line + " " + piece : piece;
        cols += cols > 0 ? 1 + width : width;
      }
    }
    lines.push(line);
  }
  return lines;
}

function bubble(lines: string[]): string {
  let width = 0;
  for (let i = 0; i < lines.length; i++) width = max(width, columns(lines[i]));
  let out = " " + "_".repeat(width + 2) + "\n";
  for (let i = 0; i < lines.length; i++) {
    const last = lines.length - 1;
    const left = last == 0 ? "<" : i == 0 ? "/" : i == last ? "\\" : "|";
    const right = last == 0 ? ">" : i == 0 ? "\\" : i == last ? "/" : "|";
    out += left + " " + lines[i] + " ".repeat(width - columns(lines[i])) + " " + right + "\n";
  }
  return out + " " + "-".repeat(width + 2) + "\n";
}

print(bubble(wrap(input("message"))) + COW);
