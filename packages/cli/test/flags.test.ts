import { test } from "node:test";
import assert from "node:assert/strict";
import { isLilyError } from "@lily/protocol";
import { collectInput, durationOption, intOption, tokenOption } from "../src/flags.ts";

/** The flag parsers refuse with INVALID_INPUT naming the flag, in the field and in the message. */
const namesTheFlag = (flag: string) => (e: unknown) => isLilyError(e, "INVALID_INPUT") && e.field === flag && e.message.startsWith(flag);

test("intOption reads a non-negative integer", () => {
  assert.equal(intOption("7101", "--port"), 7101);
  assert.equal(intOption("0", "--port"), 0);
});

for (const bad of ["", "-1", "1.5", "ten", "0x10", "3 "]) {
  test(`intOption refuses ${JSON.stringify(bad)} naming the flag`, () => {
    assert.throws(() => intOption(bad, "--quote-jobs"), namesTheFlag("--quote-jobs"));
  });
}

test("tokenOption reads LILY amounts into base units (18 decimals)", () => {
  assert.equal(tokenOption("10", "--max-price"), 10n * 10n ** 18n);
  assert.equal(tokenOption("0.5", "--max-price"), 5n * 10n ** 17n);
  assert.equal(tokenOption("0.000000000000000001", "--max-price"), 1n);
});

for (const bad of ["", "-1", "1,5", "ten", ".5", "1.", "0.0000000000000000001", "1e18"]) {
  test(`tokenOption refuses ${JSON.stringify(bad)} naming the flag`, () => {
    assert.throws(() => tokenOption(bad, "--max-price"), namesTheFlag("--max-price"));
  });
}

test("durationOption reads seconds, minutes and hours into seconds", () => {
  assert.equal(durationOption("90", "--timeout"), 90);
  assert.equal(durationOption("90s", "--timeout"), 90);
  assert.equal(durationOption("5m", "--timeout"), 300);
  assert.equal(durationOption("1h", "--timeout"), 3600);
});

for (const bad of ["", "5d", "1.5m", "m", "-5s"]) {
  test(`durationOption refuses ${JSON.stringify(bad)} naming the flag`, () => {
    assert.throws(() => durationOption(bad, "--match-timeout"), namesTheFlag("--match-timeout"));
  });
}

test("collectInput gathers repeated -i key=value, keeping everything after the first =", () => {
  const inputs = collectInput("b=x=y", collectInput("a=1"));
  assert.deepEqual(inputs, { a: "1", b: "x=y" });
});

for (const bad of ["message", "=hello"]) {
  test(`collectInput refuses ${JSON.stringify(bad)} naming -i`, () => {
    assert.throws(() => collectInput(bad), namesTheFlag("-i"));
  });
}
