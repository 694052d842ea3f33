// End a session: its token stops working at once. Returns whether there was a session to end.
import type { Database } from "@lily/node-kit";
import { sha256 } from "./secrets.ts";

export function signOut(db: Database, token: string): boolean {
  return Number(db.prepare("DELETE FROM sessions WHERE hash = ?").run(sha256(token)).changes) === 1;
}
