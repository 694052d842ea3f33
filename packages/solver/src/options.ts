// Options of the solver process and their defaults; the CLI maps flags onto them.
import type { Address } from "viem";
import type { Domain } from "@lily/protocol";

export interface SolverOptions {
  /** The SQLite file holding every offer and deal; a restarted solver resumes from it. */
  dbPath: string;
  host: string;
  port: number;
  /** The chain and LilyDeals contract every signature is bound to. */
  domain: Domain;
  /** The payment token, reported by `health` so clients can check they share one deployment. */
  token: Address;
  /** How long a proposed deal waits for both signatures before it is dropped and the job re-matched. */
  signWindowSeconds: number;
  /** How often unsigned proposals and expired offers are swept. */
  sweepIntervalMs: number;
}

export const defaultSolverOptions: Omit<SolverOptions, "dbPath" | "domain" | "token"> = {
  host: "127.0.0.1",
  port: 0,
  signWindowSeconds: 60,
  sweepIntervalMs: 1000,
};
