// SQLite for every role's state, through Node's built-in `node:sqlite` (no native build).
// WAL mode and synchronous=NORMAL survive a process crash without losing committed rows;
// migrations are numbered and run once, in order, inside a transaction.
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

export type Database = DatabaseSync;

export function openDatabase(path: string, migrations: string[]): DatabaseSync {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;");
  db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const row = db.prepare("SELECT version FROM schema_version").get() as { version: number } | undefined;
  let version = row?.version ?? 0;
  if (!row) db.prepare("INSERT INTO schema_version (version) VALUES (0)").run();
  for (; version < migrations.length; version++) {
    transaction(db, () => {
      db.exec(migrations[version]!);
      db.prepare("UPDATE schema_version SET version = ?").run(version + 1);
    });
  }
  return db;
}

/** Run `fn` in a transaction; roll back and rethrow on error. */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const out = fn();
    db.exec("COMMIT");
    return out;
  } catch (e) {
    db.exec("ROLLBACK");
    throw e;
  }
}

/**
 * A statement per SQL text, prepared on first use and kept: compiling the SQL again on every call
 * was most of the cost of a role's hottest reads. The texts must be constants (one entry each).
 */
export function preparedOnce(db: DatabaseSync): (sql: string) => StatementSync {
  const statements = new Map<string, StatementSync>();
  return (sql) => {
    let s = statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };
}
