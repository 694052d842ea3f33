// A thin wrapper over solc-js's standard-JSON interface: sources in, ABIs and bytecode out.
// Imports of `@openzeppelin/...` (or any package) resolve from node_modules.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import solc from "solc";

const require = createRequire(import.meta.url);

export const solcVersion: string = solc.version();

/** Compiler settings; part of the build hash, so changing them forces a rebuild. */
export const settings = {
  evmVersion: "cancun", // transient storage and mcopy; supported by mainnet and the major L2s
  viaIR: true, // ~3k gas less per job than the legacy pipeline, for a slower (cached) build
  optimizer: { enabled: true, runs: 10_000 }, // deals are opened often, deployed once
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
} as const;

export interface CompiledContract {
  abi: unknown[];
  /** Creation bytecode, 0x-prefixed; "0x" for abstract contracts and interfaces. */
  bytecode: `0x${string}`;
  /** The source path that defines it, e.g. `contracts/LilyDeals.sol`. */
  source: string;
}

export class SolidityCompileError extends Error {
  readonly errors: string[];
  constructor(errors: string[]) {
    super(`solc failed:\n${errors.join("\n")}`);
    this.name = "SolidityCompileError";
    this.errors = errors;
  }
}

function findImport(path: string): { contents: string } | { error: string } {
  try {
    return { contents: readFileSync(require.resolve(path), "utf8") };
  } catch {
    return { error: `not found: ${path} (looked in node_modules)` };
  }
}

/**
 * Compile `sources` (path → Solidity text). Returns every contract by name, and the warnings
 * about `sources` themselves.
 * Throws SolidityCompileError listing each error with its location.
 */
export function compileSolidity(sources: Record<string, string>): {
  contracts: Record<string, CompiledContract>;
  warnings: string[];
} {
  const input = {
    language: "Solidity",
    sources: Object.fromEntries(Object.entries(sources).map(([path, content]) => [path, { content }])),
    settings,
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const diagnostics: { severity: string; formattedMessage: string; sourceLocation?: { file: string } }[] = output.errors ?? [];
  const errors = diagnostics.filter((d) => d.severity === "error").map((d) => d.formattedMessage);
  if (errors.length > 0) throw new SolidityCompileError(errors);

  const contracts: Record<string, CompiledContract> = {};
  for (const path of Object.keys(sources)) {
    // biome-ignore lint/suspicious/noExplicitAny: solc's standard JSON output, untyped
    for (const [name, c] of Object.entries<any>(output.contracts?.[path] ?? {})) {
      contracts[name] = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}`, source: path };
    }
  }
  // Warnings about the given sources only; imported libraries (OpenZeppelin) are not ours to fix.
  const warnings = diagnostics.filter((d) => d.severity !== "error" && (!d.sourceLocation || d.sourceLocation.file in sources)).map((d) => d.formattedMessage);
  return { contracts, warnings };
}
