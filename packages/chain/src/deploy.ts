// Deploy LilyToken, LilyDeals, the ModuleRegistry, LilyLeases and LilyTrustDeals to any EVM chain reachable over JSON-RPC.
import { createClient, getAddress, type Address, type Hex } from "viem";
import type { NetworkEndpoints } from "@lily/protocol";
import { getChainId } from "viem/actions";
import { privateKeyToAccount } from "viem/accounts";
import { lilyDealsAbi, lilyLeasesAbi, lilyTokenAbi, lilyTrustDealsAbi, moduleRegistryAbi } from "./generated/artifacts.ts";
import { lilyChain } from "./client.ts";
import { lilyPublicClient, lilyWalletClient } from "./viemClients.ts";
import { rpcTransport } from "./rpcTransport.ts";
import { toLilyError } from "./errors.ts";

/** Where Lily lives on a chain. Plain JSON (no bigints), so it can be saved to a config file. */
/** The deployment's addresses from a network's endpoints (NetworkEndpoints, a role's options). */
export function addressesOf(net: Pick<NetworkEndpoints, "chainId" | "token" | "deals" | "registry" | "leases" | "trustDeals" | "deployBlock">): LilyDeployment {
  const { chainId, token, deals, registry, leases, trustDeals, deployBlock } = net;
  return { chainId, token, deals, registry, leases, ...(trustDeals && { trustDeals }), deployBlock };
}

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
  /**
   * The LilyLeases contract (Anura): inference leases and their own escrow balances, and the
   * EIP-712 verifying contract of leases, vouchers and receipts. Every deployment has one; a
   * client that never touches leases may leave it out, and the lease actions then fail with CONFIG.
   */
  leases?: Address;
  /**
   * The LilyTrustDeals contract: trust deals opened and settled in batches with no storage per
   * deal, with escrow balances of its own, and the EIP-712 verifying contract of TrustDeal.
   * Deployments made before it existed lack it; the trust-batch actions then fail with CONFIG.
   */
  trustDeals?: Address;
  /** The block LilyDeals was deployed in: where event scans start. */
  deployBlock: number;
}

/**
 * A whole deployment, as `deployLily` returns it: the registry's and the leases' addresses
 * included, and `trustDeals` when it was asked for.
 */
export type LilyDeployment = LilyAddresses & { registry: Address; leases: Address };

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
  /**
   * Seconds after a lease expires in which its provider may still close it; after that anyone
   * may return the budget to the payer. Fixed for the deployment's lifetime. Default 3600.
   */
  leaseClaimWindowSeconds?: number;
  /**
   * Seconds after a lease expires in which its mediator may still slash the collateral; after
   * that the collateral goes back to the provider. At least the claim window. Default 86400.
   */
  leaseAuditWindowSeconds?: number;
  /**
   * Deploy LilyTrustDeals too, and name it in the addresses returned. Naming it is what routes
   * every role's trust deals there, so it is asked for, never a side effect: addresses spread from
   * a deployment made without it cannot opt a network in by accident. Default false.
   */
  trustDeals?: boolean;
}

/** The mediation timeout `deployLily` uses when none is given: one hour. */
export const DEFAULT_MEDIATION_TIMEOUT_SECONDS = 3600;
/** A lease's claim window when none is given: one hour after it expires. */
export const DEFAULT_LEASE_CLAIM_WINDOW_SECONDS = 3600;
/** A lease's audit window when none is given: a day after it expires. */
export const DEFAULT_LEASE_AUDIT_WINDOW_SECONDS = 86_400;

export async function deployLily({
  rpcUrl,
  deployerKey,
  supply,
  mediationTimeoutSeconds = DEFAULT_MEDIATION_TIMEOUT_SECONDS,
  mediatorTurnSeconds = Math.max(1, Math.floor(mediationTimeoutSeconds / 2)),
  leaseClaimWindowSeconds = DEFAULT_LEASE_CLAIM_WINDOW_SECONDS,
  leaseAuditWindowSeconds = Math.max(DEFAULT_LEASE_AUDIT_WINDOW_SECONDS, leaseClaimWindowSeconds),
  trustDeals: withTrustDeals = false,
}: DeployLilyOptions): Promise<LilyDeployment> {
  try {
    // Loaded here, not with this file: only a deployment needs the ~110 kB of creation bytecode.
    const { lilyDealsBytecode, lilyLeasesBytecode, lilyTokenBytecode, lilyTrustDealsBytecode, moduleRegistryBytecode } = await import(
      "./generated/bytecode.ts"
    );
    const transport = rpcTransport(rpcUrl);
    const chain = lilyChain(await getChainId(createClient({ transport })), rpcUrl);
    const publicClient = lilyPublicClient({ chain, transport, pollingInterval: 100 });
    const account = privateKeyToAccount(deployerKey);
    const wallet = lilyWalletClient({ account, chain, transport });

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
    // After LilyDeals, so event scans from `deployBlock` cover the registry's and the leases' events too.
    const registry = await deploy(await wallet.deployContract({ abi: moduleRegistryAbi, bytecode: moduleRegistryBytecode, args: [] }));
    const leases = await deploy(
      await wallet.deployContract({
        abi: lilyLeasesAbi,
        bytecode: lilyLeasesBytecode,
        args: [token.contractAddress!, BigInt(leaseClaimWindowSeconds), BigInt(leaseAuditWindowSeconds)],
      }),
    );
    const trustDeals = withTrustDeals
      ? await deploy(await wallet.deployContract({ abi: lilyTrustDealsAbi, bytecode: lilyTrustDealsBytecode, args: [token.contractAddress!] }))
      : undefined;
    return {
      chainId: chain.id,
      token: getAddress(token.contractAddress!),
      deals: getAddress(deals.contractAddress!),
      registry: getAddress(registry.contractAddress!),
      leases: getAddress(leases.contractAddress!),
      ...(trustDeals && { trustDeals: getAddress(trustDeals.contractAddress!) }),
      deployBlock: Number(deals.blockNumber),
    };
  } catch (e) {
    throw toLilyError(e);
  }
}
