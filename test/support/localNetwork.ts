// A real local Lily network for in-process tests: anvil with Lily deployed, a content-addressed
// store holding every built module, and a solver, all on loopback; clients for any key, funding
// from the deployer, and one stop for all of it. Each package's test network adds its own parties
// and helpers on top (the provider's runners, the job creator's SDK client, the mediator's units).
import { join } from "node:path";
import { parseEther, type Hex, type LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  createLilyClient,
  deployLily,
  deposit,
  devAccounts,
  fundAccount,
  publishModule,
  startAnvil,
  type Anvil,
  type LilyAddresses,
  type LilyClient,
} from "@lily/chain";
import { createClient, solverRoutes, type Client, type SolverRoutes } from "@lily/api";
import { createLogger, type Logger } from "@lily/node-kit";
import { startStore, defaultStoreOptions, StoreClient } from "@lily/store";
import { startSolver, defaultSolverOptions, type SolverOptions } from "@lily/solver";
import { loadCatalog } from "@lily/modules";
import type { Domain, NetworkEndpoints } from "@lily/protocol";
import { tempDir } from "./tempDir.ts";

/** The LILY the deployer mints, and so all there ever is. */
export const SUPPLY = parseEther("1000000");

/** The modules the repo builds. */
export type ModuleName = "cowsay" | "primes" | "wordcount";

/** A logger for test parts: quiet unless LILY_TEST_LOG=info. */
export const testLogger = (module = "test"): Logger => createLogger({ module, level: (process.env.LILY_TEST_LOG as "info" | undefined) ?? "error" });

export interface ModuleStore {
  url: string;
  store: StoreClient;
  /** Where the store keeps its blocks: deleting a block's file makes the block vanish. */
  dataDir: string;
  /** Every built module's manifest CID, by module name (its binary is stored too). */
  modules: Record<ModuleName, string>;
  close(): Promise<void>;
}

/** A real store server over `dataDir` with every built module published: manifest and binary. */
export async function startModuleStore(dataDir: string, logger: Logger = testLogger("store")): Promise<ModuleStore> {
  const server = await startStore({ ...defaultStoreOptions, dataDir }, { logger });
  const store = new StoreClient(server.url);
  const modules = {} as Record<ModuleName, string>;
  for (const m of loadCatalog()) {
    modules[m.manifest.name as ModuleName] = await store.putRecordBytes(m.manifestBytes);
    await store.putBytes(m.wasmBytes);
  }
  return { url: server.url, store, dataDir, modules, close: () => server.close() };
}

export interface LocalNetworkOptions {
  /** Mine a block this often, so chain time moves on its own (default: a block per transaction). */
  blockTimeSeconds?: number;
  /** The deployment's mediation timeout (default: the contracts' own). */
  mediationTimeoutSeconds?: number;
  /** LilyLeases' claim window (default the contracts' own): short, so a test moving chain time sees leases settle. */
  leaseClaimWindowSeconds?: number;
  /** The solver's options over its defaults (a sign window, a sweep interval). */
  solver?: Partial<SolverOptions>;
  /**
   * Open trust deals on LilyTrustDeals (the network's endpoints and `addresses` name it; `fund`'s
   * `deposit` goes into its escrow too). Without it the network has no LilyTrustDeals for the roles.
   */
  trustDeals?: boolean;
}

/** What the deployer sends each party: gas, LILY, and how much of it the party deposits into escrow. */
export interface Funding {
  eth?: bigint;
  tokens?: bigint;
  deposit?: bigint;
  /** Deposited into the leases escrow (LilyLeases), whose balances are its own. */
  leasesDeposit?: bigint;
  /** Deposited into the trust deals escrow (LilyTrustDeals); on a `trustDeals` network, `deposit` by default (sent besides `tokens`). */
  trustDeposit?: bigint;
}

export interface LocalNetwork {
  /** A temporary directory of the network's own, for the databases and work directories of what a test starts. */
  dir: string;
  logger: Logger;
  anvil: Anvil;
  addresses: LilyAddresses;
  /** The EIP-712 domain offers, deals and results are signed under. */
  domain: Domain;
  /** How a role reaches this network: what its options, the SDK's and a network.json start from. */
  endpoints: NetworkEndpoints;
  /** anvil's first dev account: it deployed Lily and holds the supply. */
  deployer: LilyClient;
  /** A chain client sending as a private key or an account. */
  clientFor(who: Hex | LocalAccount): LilyClient;
  /** Fund every party from the deployer, one after the other, then let each deposit (all at once). */
  fund(parties: LilyClient[], funding: Funding): Promise<void>;
  store: StoreClient;
  /** The store's block directory: deleting a block's file makes the block vanish. */
  storeDir: string;
  modules: Record<ModuleName, string>;
  solver: Client<SolverRoutes>;
  /** Close `close` when the network stops, before anything started earlier. */
  onStop(close: () => Promise<void>): void;
  /** Stop everything, last started first. */
  stop(): Promise<void>;
}

/**
 * Start a local network (`name` names its temporary directory) and, given `build`, build a
 * package's network on it: if building fails, everything started is stopped.
 */
export function startLocalNetwork(name: string, opts?: LocalNetworkOptions): Promise<LocalNetwork>;
export function startLocalNetwork<T>(name: string, opts: LocalNetworkOptions, build: (net: LocalNetwork) => Promise<T>): Promise<T>;
export async function startLocalNetwork<T>(name: string, opts: LocalNetworkOptions = {}, build?: (net: LocalNetwork) => Promise<T>): Promise<LocalNetwork | T> {
  const net = await start(name, opts);
  if (!build) return net;
  try {
    return await build(net);
  } catch (e) {
    await net.stop();
    throw e;
  }
}

async function start(name: string, opts: LocalNetworkOptions): Promise<LocalNetwork> {
  const dir = tempDir(`lily-${name}-net-`);
  const logger = testLogger();
  const closers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (let close = closers.pop(); close; close = closers.pop()) await close();
  };
  try {
    const anvil = await startAnvil({ blockTimeSeconds: opts.blockTimeSeconds });
    closers.push(() => anvil.stop());
    const addresses = await deployLily({
      rpcUrl: anvil.rpcUrl,
      deployerKey: devAccounts[0]!,
      supply: SUPPLY,
      mediationTimeoutSeconds: opts.mediationTimeoutSeconds,
      leaseClaimWindowSeconds: opts.leaseClaimWindowSeconds,
      // The roles route trust deals by whether the addresses name LilyTrustDeals.
      trustDeals: opts.trustDeals === true,
    });
    const clientFor = (who: Hex | LocalAccount) =>
      createLilyClient({ rpcUrl: anvil.rpcUrl, account: typeof who === "string" ? privateKeyToAccount(who) : who, addresses, pollingIntervalMs: 20 });
    const deployer = clientFor(devAccounts[0]!);
    const domain = deployer.domain;

    const storeDir = join(dir, "blocks");
    const { url: storeUrl, store, modules, close: closeStore } = await startModuleStore(storeDir, logger);
    closers.push(closeStore);
    // Jobs name modules as users do (name@version), so the registry holds every built module.
    for (const m of loadCatalog()) {
      await publishModule(deployer, { name: m.manifest.name, version: m.manifest.version, manifestCid: m.manifestCid, royaltyBps: m.manifest.royaltyBps });
    }

    const solverServer = await startSolver(
      {
        ...defaultSolverOptions,
        dbPath: join(dir, "solver.db"),
        domain,
        leases: addresses.leases,
        token: addresses.token,
        rpcUrl: anvil.rpcUrl,
        deployBlock: addresses.deployBlock,
        ...(addresses.trustDeals && { trustDeals: addresses.trustDeals }),
        ...opts.solver,
      },
      { logger },
    );
    closers.push(() => solverServer.close());

    return {
      dir,
      logger,
      anvil,
      addresses,
      domain,
      endpoints: {
        rpcUrl: anvil.rpcUrl,
        chainId: addresses.chainId,
        token: addresses.token,
        deals: addresses.deals,
        registry: addresses.registry,
        leases: addresses.leases,
        ...(addresses.trustDeals && { trustDeals: addresses.trustDeals }),
        deployBlock: addresses.deployBlock,
        solverUrl: solverServer.url,
        storeUrl,
      },
      deployer,
      clientFor,
      async fund(parties, { eth, tokens, deposit: amount, leasesDeposit, trustDeposit }) {
        const trust = addresses.trustDeals && (trustDeposit ?? amount);
        // A trust deposit defaulted from `deposit` is funded besides `tokens`, which the test sized for `deposit` alone.
        const extra = trust && trustDeposit === undefined ? trust : 0n;
        for (const party of parties)
          await fundAccount(deployer, { to: party.account!.address, eth, tokens: tokens === undefined && !extra ? undefined : (tokens ?? 0n) + extra });
        // One party's deposits go one after the other: each may first approve the token.
        await Promise.all(
          parties.map(async (party) => {
            if (amount) await deposit(party, { amount });
            if (leasesDeposit) await deposit(party, { amount: leasesDeposit, escrow: addresses.leases });
            if (trust) await deposit(party, { amount: trust, escrow: addresses.trustDeals });
          }),
        );
      },
      store,
      storeDir,
      modules,
      solver: createClient(solverServer.url, solverRoutes),
      onStop: (close) => closers.push(close),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
