// Drop every spending hold: called when Halo's database is opened, since a hold belongs to a request
// in flight and no request survives its process. What those requests did pay was charged when they
// settled; what they had not settled was never paid by this gateway's vouchers either.
import type { Database } from "@lily/node-kit";

/** Returns how many holds were dropped. */
export function clearReservations(db: Database): number {
  return Number(db.prepare("DELETE FROM spend_reservations").run().changes);
}
