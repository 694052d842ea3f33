import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { openDatabase, transaction } from "../src/index.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const migrations = ["CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", "ALTER TABLE t ADD COLUMN w TEXT"];

test("migrations run once and data survives reopening", () => {
  const path = join(tempDir("lily-db-"), "x.db");
  const db = openDatabase(path, migrations);
  db.prepare("INSERT INTO t (v, w) VALUES (?, ?)").run("a", "b");
  db.close();
  const again = openDatabase(path, migrations);
  assert.deepEqual({ ...(again.prepare("SELECT v, w FROM t").get() as object) }, { v: "a", w: "b" });
});

test("a failing transaction changes nothing", () => {
  const db = openDatabase(":memory:", migrations);
  assert.throws(() =>
    transaction(db, () => {
      db.prepare("INSERT INTO t (v) VALUES (?)").run("x");
      throw new Error("boom");
    }),
  );
  assert.equal((db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n, 0);
});
