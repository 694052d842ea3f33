// Misbehaviour on purpose, injected into an otherwise honest provider. `lily devnet --adversary
// <kind>` starts providers with these strategies beside the honest ones (through `lily provider
// --adversary`), so anyone can watch the protocol catch them and see what it cost them. The
// provider package holds no adversary code: it only calls the strategy it is given.
//   cheat — does not run the module: commits a fabricated result (saves the compute). Two cheats
//           fabricate the same bytes, so a colluding pair (`--adversary collude`) agrees.
//   lazy  — signs and opens deals (locking its collateral) and then never delivers.
import { LilyError, type ResultManifest } from "@lily/protocol";
import type { ProviderStrategy } from "@lily/provider";

export const adversaryKinds = ["cheat", "lazy"] as const;
export type AdversaryKind = (typeof adversaryKinds)[number];

/** What a cheating provider claims its module printed. */
export const FABRICATED_STDOUT = "trust me, this is the result\n";

const cheat: ProviderStrategy = {
  async produceResult(job, { store }) {
    const stdout = await store.putBytes(new TextEncoder().encode(FABRICATED_STDOUT));
    const result: ResultManifest = { module: job.module, inputs: job.inputs, exitCode: 0, files: { stdout } };
    return { resultCid: await store.putRecord(result), exitCode: 0, durationMs: 0 };
  },
};

const lazy: ProviderStrategy = {
  // Holds the deal until its deadline has passed and gives nothing: the provider then lets it go.
  produceResult: (job) =>
    new Promise((_, reject) => {
      const gone = () => reject(new LilyError({ code: "DEADLINE_PASSED", field: "deadline", message: `deal ${job.dealId}: withheld on purpose` }));
      setTimeout(gone, Math.max(0, job.timeLeftMs) + 5000).unref();
    }),
};

export const adversaries: Record<AdversaryKind, ProviderStrategy> = { cheat, lazy };
