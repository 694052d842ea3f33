import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { openDatabase, reliedBlocksMigration, reliedBlocksTable } from "../src/index.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const block = (n: number, h: string) => ({ number: BigInt(n), hash: `0x${h.padStart(64, "0")}` as const });

test("relied blocks are kept once each, lowest first, across reopening, until forgotten", () => {
  const path = join(tempDir("lily-relied-"), "x.db");
  const db = openDatabase(path, [reliedBlocksMigration]);
  const table = reliedBlocksTable(db);
  table.relyOn(block(7, "AB"));
  table.relyOn(block(3, "cd"));
  table.relyOn(block(7, "ab")); // the same block, whatever the case
  table.relyOn(block(7, "ef")); // another block at the same height (a fork)
  db.close();

  const reopened = openDatabase(path, [reliedBlocksMigration]);
  const again = reliedBlocksTable(reopened);
  assert.deepEqual(again.relied(), [block(3, "cd"), block(7, "ab"), block(7, "ef")]);
  again.forget([block(3, "cd"), block(7, "EF")]);
  assert.deepEqual(again.relied(), [block(7, "ab")]);
  reopened.close();
});
