// The container modules run real models on a real Docker engine, through the execution contract,
// on inputs whose answers the test knows because it made them: a sentence rendered to an image, digits
// spoken by espeak-ng, a chess position with one mating move, NASA's astronaut portrait. Each
// module's declared comparator is checked on two runs of the same job. Without a Docker engine
// these tests fail, unless LILY_SKIP_DOCKER=1 leaves them out.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { comparatorFor } from "@lily/verification";
import { astronautPng, renderText, speak } from "./support/fixtures.ts";
import { containerModules, skipDocker, type ContainerModules, type ModuleRun } from "./support/containerModules.ts";
import { tempDir } from "../support/tempDir.ts";

let modules: ContainerModules;
let scratch: string;

/** The module's own comparator judges a re-run of the same job equal. */
function assertSameResult(name: string, first: ModuleRun, second: ModuleRun): void {
  const verdict = comparatorFor(modules.modules.get(name)!.manifest.comparator).compare(first.files, second.files);
  assert.ok(verdict.equal, `${name}: ${verdict.detail}`);
}

describe("container modules on a real Docker engine", { skip: skipDocker }, () => {
  before(async () => {
    scratch = tempDir("lily-module-fixtures-");
    modules = await containerModules();
  });
  after(async () => {
    rmSync(scratch, { recursive: true, force: true });
    await modules?.close();
  });

  describe("ocr", () => {
    const sentence = "Lily reads every word of this sentence.";

    test("reads a rendered sentence exactly, with a box and a confidence for every word", async () => {
      const run = await modules.run("ocr", { image: renderText(sentence, scratch) });
      assert.equal(run.exit.exitCode, 0, run.text("stderr"));
      assert.equal(run.text("text.txt"), `${sentence}\n`);
      assert.equal(run.text("stdout"), `${sentence}\n`);
      const { words } = run.json<{ words: { text: string; confidence: number; left: number; top: number; width: number; height: number }[] }>("words.json");
      assert.deepEqual(
        words.map((w) => w.text),
        sentence.split(" "),
      );
      for (const [i, w] of words.entries()) {
        assert.ok(w.confidence > 80 && w.confidence <= 100, `${w.text}: confidence ${w.confidence}`);
        assert.ok(w.width > 0 && w.height > 0 && w.top >= 0, `${w.text}: box ${JSON.stringify(w)}`);
        if (i > 0) assert.ok(w.left > words[i - 1]!.left + words[i - 1]!.width, `${w.text} starts right of the word before it`);
      }
    });

    test("a re-run is the same result under its tolerance comparator", async () => {
      const image = renderText("Tolerance: 0.5 pixels, 1 point.", scratch);
      assertSameResult("ocr", await modules.run("ocr", { image }), await modules.run("ocr", { image }));
    });

    test("a file that is not an image fails the job, naming the input", async () => {
      const run = await modules.run("ocr", { image: new TextEncoder().encode("/etc/passwd\n") });
      assert.equal(run.exit.exitCode, 2);
      assert.match(run.text("stderr"), /^inputs\.image: not an image/);
      assert.deepEqual([...run.files.keys()].sort(), ["stderr", "stdout"]);
    });
  });

  describe("speech-to-text", () => {
    test("hears spoken digits with the digits vocabulary", async () => {
      const run = await modules.run("speech-to-text", { audio: speak("one two three four five six", scratch), vocabulary: "digits" });
      assert.equal(run.exit.exitCode, 0, run.text("stderr"));
      const transcript = run.json<{ text: string; mode: string; letters: Record<string, number> }>("transcript.json");
      assert.equal(transcript.text, "one two three four five six");
      assert.equal(transcript.mode, "digits");
      assert.equal(transcript.letters.e, 4); // onE threE fivE: 1 + 2 + 1
      assert.equal(Object.keys(transcript.letters).length, 26);
      assert.equal(run.text("stdout"), "");
    });

    test("follows a JSGF grammar given as a file input", async () => {
      const grammar = new TextEncoder().encode(
        "#JSGF V1.0;\ngrammar pin;\npublic <pin> = <digit> <digit> <digit> <digit>;\n<digit> = zero | one | two | three | four | five | six | seven | eight | nine;\n",
      );
      const run = await modules.run("speech-to-text", { audio: speak("one three five seven", scratch), grammar });
      assert.equal(run.exit.exitCode, 0, run.text("stderr"));
      assert.deepEqual(run.json("transcript.json"), {
        text: "one three five seven",
        mode: "grammar",
        letters: { ...Object.fromEntries([..."abcdefghijklmnopqrstuvwxyz"].map((c) => [c, 0])), e: 6, f: 1, h: 1, i: 1, n: 2, o: 1, r: 1, s: 1, t: 1, v: 2 },
      });
    });

    test("a re-run is the same result under its similarity comparator, and another transcript is not", async () => {
      const audio = speak("zero one two three", scratch);
      const first = await modules.run("speech-to-text", { audio, vocabulary: "digits" });
      assertSameResult("speech-to-text", first, await modules.run("speech-to-text", { audio, vocabulary: "digits" }));
      const other = await modules.run("speech-to-text", { audio: speak("six two four", scratch), vocabulary: "digits" });
      const verdict = comparatorFor(modules.modules.get("speech-to-text")!.manifest.comparator).compare(first.files, other.files);
      assert.equal(verdict.equal, false, verdict.detail);
    });
  });

  describe("chess", () => {
    const backRankMate = "6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1";

    test("finds the mate in one", async () => {
      const run = await modules.run("chess", { position: backRankMate });
      assert.equal(run.exit.exitCode, 0, run.text("stderr"));
      const analysis = run.json<Record<string, unknown>>("analysis.json");
      assert.equal(analysis.bestmove, "a1a8");
      assert.deepEqual(analysis.score, { mate: 1 });
      assert.deepEqual(analysis.pv, ["a1a8"]);
      assert.equal(analysis.engine, "Stockfish 15.1");
      assert.match(run.text("stdout"), /^bestmove a1a8 \(mate in 1/);
    });

    test("two runs of one search give identical bytes", async () => {
      const job = { moves: "e2e4 c7c5 g1f3", depth: 16 };
      const [first, second] = [await modules.run("chess", job), await modules.run("chess", job)];
      assert.equal(first.exit.exitCode, 0, first.text("stderr"));
      assert.equal(first.text("analysis.json"), second.text("analysis.json"));
      assert.equal(first.text("stdout"), second.text("stdout"));
      assert.ok(first.json<{ nodes: number }>("analysis.json").nodes > 10_000);
      assertSameResult("chess", first, second);
    });

    test("an illegal move fails the job, naming it", async () => {
      const run = await modules.run("chess", { moves: "e2e4 e7e5 e1e3" });
      assert.equal(run.exit.exitCode, 2);
      assert.equal(run.text("stderr"), "inputs.moves: move 3 (e1e3) is not legal in that position\n");
    });
  });

  describe("faces", () => {
    test("finds the one face in the astronaut portrait, where it is, and draws it", async () => {
      const run = await modules.run("faces", { image: astronautPng() });
      assert.equal(run.exit.exitCode, 0, run.text("stderr"));
      const found = run.json<{ width: number; height: number; faces: { x: number; y: number; width: number; height: number }[] }>("faces.json");
      assert.equal(found.width, 512);
      assert.equal(found.height, 512);
      assert.equal(found.faces.length, 1, JSON.stringify(found.faces));
      const [face] = found.faces;
      // Eileen Collins' face: centred near (224, 114), about 90 pixels across.
      assert.ok(face!.x > 150 && face!.x < 210 && face!.y > 40 && face!.y < 100, `face at (${face!.x}, ${face!.y})`);
      assert.ok(face!.width > 70 && face!.width < 130 && face!.height === face!.width, `face ${face!.width}x${face!.height}`);
      const png = run.files.get("faces.png")!;
      assert.deepEqual(
        [...png.subarray(1, 4)],
        [..."PNG"].map((c) => c.charCodeAt(0)),
      );
      // IHDR: width and height, big-endian, at bytes 16..23.
      assert.deepEqual([Buffer.from(png).readUInt32BE(16), Buffer.from(png).readUInt32BE(20)], [512, 512]);
      assert.equal(run.text("stdout"), `1 face found\n  ${face!.width}x${face!.height} at (${face!.x}, ${face!.y})\n`);
    });

    test("two runs give identical bytes, boxes and drawing", async () => {
      const image = astronautPng();
      const [first, second] = [await modules.run("faces", { image }), await modules.run("faces", { image })];
      assert.deepEqual(first.files.get("faces.png"), second.files.get("faces.png"));
      assertSameResult("faces", first, second);
    });
  });
});
