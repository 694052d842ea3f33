// The ModuleRegistry's custom errors as readable sentences (merged into errors.ts's decoder).
// Malformed input is INVALID_INPUT naming the field; a name held by another creator, a version
// already published and a transfer by a non-holder are CHAIN_REVERT with the error's values;
// a lookup of something never published is UNKNOWN_MODULE.
import { cidFromDigest } from "@lily/protocol";
import type { Args, Sentence } from "./errors.ts";

export const registrySentences: Record<string, (a: Args) => Sentence> = {
  RegistryInvalidName: (a) => ({
    code: "INVALID_INPUT",
    field: "name",
    message: `module name ${JSON.stringify(a.name)} is not 1 to 64 lower-case letters, digits and dashes starting with a letter`,
  }),
  RegistryInvalidVersion: (a) => ({
    code: "INVALID_INPUT",
    field: "version",
    message: `version ${JSON.stringify(a.version)} is not semver x.y.z (each part a number below 2^32, without leading zeros)`,
  }),
  RegistryInvalidRoyalty: (a) => ({
    code: "INVALID_INPUT",
    field: "royaltyBps",
    message: `a royalty of ${a.royaltyBps} basis points exceeds the whole price (at most 10000)`,
  }),
  RegistryEmptyManifest: () => ({ code: "INVALID_INPUT", field: "manifestCid", message: "the manifest digest is zero: it names no manifest" }),
  RegistryNameTaken: (a) => ({
    code: "CHAIN_REVERT",
    field: "name",
    message: `the module name ${a.name} belongs to ${a.creator}, who published under it first; nobody else may publish under it`,
    hint: "publish under a name of your own",
  }),
  RegistryVersionExists: (a) => ({
    code: "CHAIN_REVERT",
    field: "version",
    message: `${a.name}@${a.version} is already published (manifest ${cidFromDigest(a.manifest)}); a published version never changes`,
    hint: "publish the change as a new version",
  }),
  RegistryNotNameCreator: (a) => ({
    code: "CHAIN_REVERT",
    field: "name",
    message: `only ${a.creator}, who holds the module name ${a.name}, may transfer it, not ${a.caller}`,
  }),
  RegistryZeroCreator: (a) => ({
    code: "INVALID_INPUT",
    field: "to",
    message: `the module name ${a.name} cannot be handed to the zero address (that would free it for anyone)`,
  }),
  RegistryUnknownName: (a) => ({ code: "UNKNOWN_MODULE", field: "name", message: `no module named ${a.name} was ever published` }),
  RegistryUnknownVersion: (a) => ({
    code: "UNKNOWN_MODULE",
    field: "version",
    message: `${a.name}@${a.version} was never published`,
    hint: `\`lily module show ${a.name}\` lists the published versions`,
  }),
};
