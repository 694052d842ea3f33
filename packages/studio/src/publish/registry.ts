// Registering name@version in the on-chain module registry from the browser, signed by the
// signed-in user's own account: the devnet's development account (its key, from the gateway, signs
// locally) or a browser wallet. The gateway never sends this transaction: only a module's creator
// may register it. The chain's RPC URL comes from GET /v1/network/config; anvil answers
// cross-origin JSON-RPC, so the browser talks to it directly.
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  getAddress,
  http,
  isAddressEqual,
  parseAbi,
  type Address,
  type Hash,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { getJson } from "../gateway.ts";
import { cidDigest, cidFromDigest } from "./cids.ts";

/**
 * The ModuleRegistry's publish function and the errors it reverts with, as in contracts/ (a test
 * checks each against the compiled ABI, so they cannot drift apart unnoticed).
 */
export const REGISTRY_ABI_SIGNATURES = [
  "function publish(string name, string version, bytes32 manifest, uint16 royaltyBps)",
  "error RegistryNameTaken(string name, address creator)",
  "error RegistryVersionExists(string name, string version, bytes32 manifest)",
  "error RegistryInvalidName(string name)",
  "error RegistryInvalidVersion(string version)",
  "error RegistryInvalidRoyalty(uint16 royaltyBps)",
  "error RegistryEmptyManifest()",
] as const;
const registryAbi = parseAbi(REGISTRY_ABI_SIGNATURES);

export interface NetworkConfig {
  chainId: number;
  rpcUrl: string;
  registry: Address;
}

/** The registry refused, or would refuse, this registration; `field` names what is at fault. */
export class RegistryRefusal extends Error {
  readonly field: "name" | "version" | "royaltyBps" | "manifest" | "chain";
  constructor(field: RegistryRefusal["field"], message: string) {
    super(message);
    this.field = field;
  }
}

export interface Registration {
  name: string;
  version: string;
  manifestCid: string;
  royaltyBps: number;
}

export interface Registrar {
  account: Address;
  /** Simulate the registration: throws RegistryRefusal when the registry would refuse it. */
  check(r: Registration): Promise<void>;
  /** Send it; `onSent` sees the hash at once, the promise ends when it is mined. */
  register(r: Registration, onSent: (hash: Hash) => void): Promise<{ hash: Hash; blockNumber: bigint }>;
}

/** A registrar for `address`: the devnet account's key when that is who signed in, else the browser wallet. */
export async function registrarFor(address: string): Promise<Registrar> {
  const config = await getJson<NetworkConfig>("v1/network/config");
  const chain = defineChain({
    id: config.chainId,
    name: `Lily network ${config.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
  });
  const publicClient = createPublicClient({ chain, transport: http(config.rpcUrl) });
  const account = getAddress(address);
  let wallet: WalletClient;
  const dev = await getJson<{ address: Address; privateKey: `0x${string}` }>("v1/dev/account").catch(() => null);
  if (dev && isAddressEqual(dev.address, account)) {
    wallet = createWalletClient({ account: privateKeyToAccount(dev.privateKey), chain, transport: http(config.rpcUrl) });
  } else if (window.ethereum) {
    wallet = createWalletClient({ account, chain, transport: custom(window.ethereum) });
    if ((await wallet.getChainId()) !== config.chainId) {
      await wallet.switchChain({ id: config.chainId }).catch(() => wallet.addChain({ chain }));
    }
  } else {
    throw new RegistryRefusal("chain", `No key for ${account} in this browser: sign in again with the account that will own the module.`);
  }
  const args = (r: Registration) => [r.name, r.version, cidDigest(r.manifestCid), r.royaltyBps] as const;
  const simulate = (r: Registration) =>
    publicClient
      .simulateContract({ address: config.registry, abi: registryAbi, functionName: "publish", args: args(r), account: wallet.account! })
      .catch((e: unknown) => {
        throw refusalOf(e, r);
      });
  return {
    account,
    check: async (r) => void (await simulate(r)),
    async register(r, onSent) {
      const { request } = await simulate(r);
      const hash = await wallet.writeContract(request).catch((e: unknown) => {
        throw refusalOf(e, r);
      });
      onSent(hash);
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new RegistryRefusal("chain", `The registration transaction ${hash} reverted.`);
      return { hash, blockNumber: receipt.blockNumber };
    },
  };
}

/** The registry's custom error as a sentence naming the problem; anything else as it came. */
export function refusalOf(e: unknown, r: Registration): Error {
  const revert = e instanceof BaseError ? e.walk((x) => x instanceof ContractFunctionRevertedError) : null;
  if (revert instanceof ContractFunctionRevertedError && revert.data) {
    const a = (revert.data.args ?? []) as readonly unknown[];
    switch (revert.data.errorName) {
      case "RegistryVersionExists": {
        const existing = cidFromDigest(a[2] as `0x${string}`);
        const same = existing === r.manifestCid;
        return new RegistryRefusal(
          "version",
          `${r.name}@${r.version} is already published${same ? " with this very manifest" : ` (manifest ${existing})`}; a published version never changes. Publish your change as a new version.`,
        );
      }
      case "RegistryNameTaken":
        return new RegistryRefusal(
          "name",
          `The name ${r.name} belongs to ${a[1] as string}, who published under it first; nobody else may publish under it. Pick a name of your own.`,
        );
      case "RegistryInvalidName":
        return new RegistryRefusal("name", `The registry refuses the name ${r.name}.`);
      case "RegistryInvalidVersion":
        return new RegistryRefusal("version", `The registry refuses the version ${r.version}.`);
      case "RegistryInvalidRoyalty":
        return new RegistryRefusal("royaltyBps", `A royalty of ${r.royaltyBps} basis points is more than the whole price.`);
      case "RegistryEmptyManifest":
        return new RegistryRefusal("manifest", "The manifest digest is zero.");
    }
  }
  if (e instanceof BaseError) return new RegistryRefusal("chain", e.shortMessage);
  return e instanceof Error ? e : new Error(String(e));
}
