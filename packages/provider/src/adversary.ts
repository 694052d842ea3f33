// Misbehaviour on purpose. `lily devnet --adversary <kind>` starts providers like these beside
// the honest ones, so anyone can watch the protocol catch them and see what it cost them; the
// authority-map tests use them too. An honest provider never takes these paths.
//   cheat — does not run the module: commits a fabricated result (saves the compute)
//   lazy  — signs and opens deals (locking its collateral) and then never delivers
export const behaviours = ["honest", "cheat", "lazy"] as const;
export type Behaviour = (typeof behaviours)[number];

/** What a cheating provider claims its module printed. */
export const FABRICATED_STDOUT = "trust me, this is the result\n";
