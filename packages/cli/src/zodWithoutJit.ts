// Zod without its JIT, for a command that does its work and exits. Zod compiles a parser (with
// `new Function`) for each object schema the first time it parses with it: worth it in a role that
// parses the same records for hours, pure cost in `lily run`, which parses most schemas once or
// twice. Zod's share of a `lily run`'s CPU profile samples went from 10-20% to 3-8% without it
// (same devnet, alternating runs). Parsing gives the same values and issues either way; only how
// zod gets there changes. Zod reads the setting when a schema is made, so this module is loaded
// before any command's (main.ts, runFirst.ts).
import * as z from "zod";

z.config({ jitless: true });
