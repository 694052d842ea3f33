// Deploy LilyToken, LilyDeals and the ModuleRegistry to any EVM chain reachable over JSON-RPC.
import { createPublicClient, createWalletClient, getAddress, http, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { lilyDealsAbi, lilyDealsBytecode, lilyTokenAbi, lilyTokenBytecode, moduleRegistryAbi, moduleRegistryBytecode } from "./generated/artifacts.ts";
import { lilyChain } from "./client.ts";
import { toLilyError } from "./errors.ts";

/** Where Lily lives on a chain. Plain JSON (no bigints), so it can be saved to a config file. */
export interface LilyAddresses {
  chainId: number;
  token: Address;
  deals: Address;
  /**
   * The ModuleRegistry (Ampli): published modules, their creators and royalties. Every
   * deployment has one; a client built for the deals contract alone (the solver's) may leave it
   * out, and the registry actions then fail with CONFIG.
   */
  registry?: Address;
  /** The block LilyDeals was deployed in: where event scans start. */
  deployBlock: number;
}

/** A whole deployment, as `deployLily` returns it: the registry's address included. */
export type LilyDeployment = LilyAddresses & { registry: Address };

export interface DeployLilyOptions {
  rpcUrl: string;
  /** Pays for the deployment and receives the whole token supply. */
  deployerKey: Hex;
  /** Fixed LILY supply in wei. */
  supply: bigint;
  /**
   * Seconds a drawn mediator has to rule before anyone may unwind the deal; fixed for the
   * deployment's lifetime (no admin can change it). Default 3600; a devnet passes less.
   */
  mediationTimeoutSeconds?: number;
  /**
   * Seconds each drawn mediator has the turn before it passes to the next one; fixed for the
   * deployment's lifetime. Default: half the mediation timeout, so an absent mediator leaves
   * another its turn in time.
   */
  mediatorTurnSeconds?: number;
}

/** The mediation timeout `deployLily` uses when none is given: one hour. */
export const DEFAULT_MEDIATION_TIMEOUT_SECONDS = 3600;

export async function deployLily({
  rpcUrl,
  deployerKey,
  supply,
  mediationTimeoutSeconds = DEFAULT_MEDIATION_TIMEOUT_SECONDS,
  mediatorTurnSeconds = Math.max(1, Math.floor(mediationTimeoutSeconds / 2)),
}: DeployLilyOptions): Promise<LilyDeployment> {
  try {
    const probe = createPublicClient({ transport: http(rpcUrl) });
    const chain = lilyChain(await probe.getChainId(), rpcUrl);
    const publicClient = createPublicClient({ chain, transport: http(rpcUrl), pollingInterval: 100 });
    const account = privateKeyToAccount(deployerKey);
    const wallet = createWalletClient({ account, chain, transport: http(rpcUrl) });

    const deploy = async (hash: Hex) => {
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success" || !receipt.contractAddress) throw new Error(`deployment ${hash} reverted`);
      return receipt;
    };
    const token = await deploy(await wallet.deployContract({ abi: lilyTokenAbi, bytecode: lilyTokenBytecode, args: [account.address, supply] }));
    const deals = await deploy(
      await wallet.deployContract({
        abi: lilyDealsAbi,
        bytecode: lilyDealsBytecode,
        args: [token.contractAddress!, BigInt(mediationTimeoutSeconds), BigInt(mediatorTurnSeconds)],
      }),
    );
    // After LilyDeals, so event scans from `deployBlock` cover the registry's events too.
    const registry = await deploy(await wallet.deployContract({ abi: moduleRegistryAbi, bytecode: moduleRegistryBytecode, args: [] }));
    return {
      chainId: chain.id,
      token: getAddress(token.contractAddress!),
      deals: getAddress(deals.contractAddress!),
      registry: getAddress(registry.contractAddress!),
      deployBlock: Number(deals.blockNumber),
    };
  } catch (e) {
    throw toLilyError(e);
  }
}
