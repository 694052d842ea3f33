import type { Address } from "viem";
import { address, moduleName, parse } from "@lily/protocol";
import { moduleRegistryAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { withLilyErrors } from "../errors.ts";
import { writeContract } from "../send.ts";
import { registryAddress } from "./registryAddress.ts";

export interface TransferModuleNameParameters {
  name: string;
  /** The new creator of the name: from now on only it may publish under it. */
  to: Address;
}

/**
 * Hand a module name the client's account holds to `to` (a key rotation, a new maintainer).
 * Versions already published keep their creator and royalty. Refused on chain (CHAIN_REVERT,
 * RegistryNotNameCreator) unless the account holds the name.
 */
export async function transferModuleName(client: LilyClient, params: TransferModuleNameParameters): Promise<WriteResult> {
  requireAccount(client);
  const registry = registryAddress(client);
  const name = parse(moduleName, params.name, "name");
  const to = parse(address, params.to, "to");
  return withLilyErrors(async () => {
    const hash = await writeContract(client, { address: registry, abi: moduleRegistryAbi, functionName: "transferName", args: [name, to] });
    return written(await confirm(client, hash));
  });
}
