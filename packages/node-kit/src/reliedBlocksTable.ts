// The blocks a role's final records rely on, as a table of the role's own database: what
// watchReliedBlocks (@lily/chain) checks to be still the chain's, since a node can lose its last
// blocks and the transactions in them. Shared by the mediator's disputes and audits (and any role
// that records something done on the word of a receipt).
import { transaction, type Database } from "./sqlite.ts";

/** A block by its number and hash (the shape of @lily/chain's BlockRef). */
export interface ReliedBlock {
  number: bigint;
  hash: `0x${string}`;
}

/** The migration that adds the table. */
export const reliedBlocksMigration = `CREATE TABLE relied_blocks (
  number INTEGER NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (number, hash)
)`;

export interface ReliedBlocksTable {
  /** Remember a block a record relies on (written before the record, so a crash cannot skip it). */
  relyOn(block: ReliedBlock): void;
  /** Every block remembered, lowest first. */
  relied(): ReliedBlock[];
  /** Forget these blocks; blocks remembered meanwhile stay. */
  forget(blocks: readonly ReliedBlock[]): void;
}

export function reliedBlocksTable(db: Database): ReliedBlocksTable {
  return {
    relyOn(block) {
      db.prepare("INSERT OR IGNORE INTO relied_blocks (number, hash) VALUES (?, ?)").run(block.number, block.hash.toLowerCase());
    },
    relied() {
      const rows = db.prepare("SELECT number, hash FROM relied_blocks ORDER BY number").all() as unknown as { number: number; hash: string }[];
      return rows.map((r) => ({ number: BigInt(r.number), hash: r.hash as `0x${string}` }));
    },
    forget(blocks) {
      const del = db.prepare("DELETE FROM relied_blocks WHERE number = ? AND hash = ?");
      transaction(db, () => {
        for (const b of blocks) del.run(b.number, b.hash.toLowerCase());
      });
    },
  };
}
