// A real network for the gateway's integration tests: the local network (anvil, the contracts, the
// store, a solver), models published in the registry as a model creator would, providers started
// in-process serving them (the tiny GGUF run by node-llama-cpp, or forwarded to a model server),
// gateways started on a home of their own, and Halo's sign-in and keys over HTTP. Chain time can be
// moved forward; every provider and gateway started here reads the same clock, so they agree
// with the chain about when a lease expires.
import assert from "node:assert/strict";
import { join } from "node:path";
import OpenAI from "openai";
import { keccak256, parseEther, toHex, type Address, type LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createSiweMessage } from "viem/siwe";
import { createClient, modelOfferRoutes, solverRoutes } from "@lily/api";
import { escrowBalance, publishModule, type LilyClient } from "@lily/chain";
import { createWasmExecutor } from "@lily/executor";
import { TINY_MODEL_PATH } from "@lily/modules/tinyModel";
import { ModelManifest, parse, toWire } from "@lily/protocol";
import { defaultProviderOptions, sha256File, startProvider, type ModelSource, type ProviderOptions, type RunningProvider } from "@lily/provider";
import { startLocalNetwork, type Funding, type LocalNetwork, type LocalNetworkOptions } from "../../../test/support/localNetwork.ts";
import { startGateway, type GatewayOptions, type RunningGateway } from "../src/index.ts";

/** The tiny model's prices in every manifest published here, per 1,000 tokens. */
export const INPUT_PER_1K = parseEther("0.001");
export const OUTPUT_PER_1K = parseEther("0.002");
/** Staked by a provider per lease. */
export const COLLATERAL = parseEther("2");

const key = (name: string) => keccak256(toHex(`lily gateway test key: ${name}`));

export interface PublishedModel {
  /** name@version, as requests name it. */
  ref: string;
  name: string;
  cid: string;
  manifest: ModelManifest;
  creator: LilyClient;
  royaltyBps: number;
}

export interface GatewayNetwork extends LocalNetwork {
  /** The clock every part started here reads: the chain's time, in milliseconds. */
  nowMs(): number;
  /** Move chain time forward (evm_increaseTime, then a block); every clock here follows. */
  advance(seconds: number): Promise<void>;
  /** A fresh account named `name`, funded with gas, LILY and the given deposits. */
  party(name: string, funding?: Funding): Promise<LilyClient>;
  /** Free LILY in the leases escrow (LilyLeases). */
  leasesEscrow(who: LilyClient | Address): Promise<bigint>;
  /** Publish the tiny GGUF as model `name`@1.0.0, by a creator of its own taking `royaltyBps`. */
  publishModel(name: string, royaltyBps?: number): Promise<PublishedModel>;
  /** Start a provider serving `model` (from the GGUF file unless `source` says otherwise); the network stops it. */
  startProvider(client: LilyClient, model: PublishedModel | undefined, o?: { source?: ModelSource; opts?: Partial<ProviderOptions> }): Promise<RunningProvider>;
  /** Start a gateway paying as `account`, on `home` (a new one unless given); the network stops it. */
  startGateway(account: LocalAccount, o?: { home?: string; opts?: Partial<GatewayOptions> }): Promise<RunningGateway>;
}

export async function startGatewayNetwork(name: string, opts: LocalNetworkOptions = {}): Promise<GatewayNetwork> {
  return startLocalNetwork(`gateway-${name}`, opts, withGateways);
}

async function withGateways(net: LocalNetwork): Promise<GatewayNetwork> {
  /** How far chain time runs ahead of the wall clock. */
  let offsetMs = 0;
  const nowMs = () => Date.now() + offsetMs;
  let homes = 0;

  async function rpc(method: string, params: unknown[]): Promise<void> {
    const res = await fetch(net.anvil.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const body = (await res.json()) as { error?: { message: string } };
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
  }

  const gn: GatewayNetwork = {
    ...net,
    nowMs,
    async advance(seconds) {
      await rpc("evm_increaseTime", [seconds]);
      await rpc("evm_mine", []);
      const block = await net.deployer.publicClient.getBlock({ blockTag: "latest" });
      offsetMs = Math.max(offsetMs, Number(block.timestamp) * 1000 - Date.now());
    },
    async party(name, funding = {}) {
      const client = net.clientFor(privateKeyToAccount(key(name)));
      await net.fund([client], { eth: parseEther("10"), tokens: parseEther("100"), ...funding });
      return client;
    },
    leasesEscrow: (who) => escrowBalance(net.deployer, { account: typeof who === "string" ? who : who.account!.address, escrow: net.addresses.leases }),
    async publishModel(name, royaltyBps = 0) {
      const creator = await gn.party(`creator of ${name}`);
      const manifest = parse(
        ModelManifest,
        {
          kind: "model",
          name,
          version: "1.0.0",
          description: "the tiny random-weight llama (its text is noise)",
          format: "gguf",
          weights: await net.store.putFile(TINY_MODEL_PATH),
          sha256: await sha256File(TINY_MODEL_PATH),
          sizeBytes: 1,
          contextLength: 512,
          pricing: { inputPer1k: INPUT_PER_1K, outputPer1k: OUTPUT_PER_1K },
          license: "CC0-1.0",
          royaltyBps,
        },
        "manifest",
      );
      const cid = await net.store.putRecord(toWire(manifest));
      await publishModule(creator, { name, version: "1.0.0", manifestCid: cid, royaltyBps });
      return { ref: `${name}@1.0.0`, name, cid, manifest, creator, royaltyBps };
    },
    async startProvider(client, model, o = {}) {
      const home = join(net.dir, `provider-${client.account!.address.slice(2, 10)}`);
      const provider = await startProvider(
        {
          ...defaultProviderOptions,
          ...net.endpoints,
          account: client.account!,
          dbPath: join(home, "provider.db"),
          workDir: join(home, "work"),
          resources: { cpu: 2, memoryMb: 2048, gpu: 0, vramMb: 0 },
          price: parseEther("1"),
          collateral: parseEther("1"),
          modules: Object.values(net.modules),
          mediators: [],
          pollMs: 100,
          ...(model && {
            models: [
              {
                label: model.ref,
                cid: model.cid,
                manifest: model.manifest,
                royalty: { moduleCreator: model.creator.account!.address, royaltyBps: model.royaltyBps },
                source: o.source ?? { kind: "file", path: TINY_MODEL_PATH },
                collateral: COLLATERAL,
              },
            ],
          }),
          ...o.opts,
        },
        {
          logger: net.logger.child("provider"),
          chain: client,
          solver: createClient(net.endpoints.solverUrl, solverRoutes),
          store: net.store,
          executor: createWasmExecutor(),
          clock: nowMs,
        },
      );
      // Closed once, whether by a test (a provider going silent) or when the network stops.
      provider.close = once(provider.close.bind(provider));
      net.onStop(() => provider.close());
      if (model) await offered(gn, model.cid, client.account!.address);
      return provider;
    },
    async startGateway(account, o = {}) {
      const gateway = await startGateway(
        {
          network: net.endpoints,
          account,
          home: o.home ?? join(net.dir, `gateway-${++homes}`),
          sweepSeconds: 0.2,
          providerCooldownSeconds: 1,
          ...o.opts,
        },
        { log: net.logger.child("gateway"), now: () => Math.floor(nowMs() / 1000) },
      );
      // Closed once, whether by a test (a restart) or when the network stops.
      gateway.close = once(gateway.close.bind(gateway));
      net.onStop(() => gateway.close());
      return gateway;
    },
  };
  return gn;
}

/** Wait until the solver lists `provider`'s offer of `model`, so a gateway can find it. */
async function offered(net: LocalNetwork, model: string, provider: Address): Promise<void> {
  const offers = createClient(net.endpoints.solverUrl, modelOfferRoutes);
  await eventually(`${provider}'s offer of ${model}`, async () => {
    const { offers: listed } = await offers.listModelOffers({ query: { model } });
    return listed.some((o) => o.offer.provider === provider) || undefined;
  });
}

function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= close();
    return closing;
  };
}

/** Poll `read` until it returns something, or fail saying what did not happen. */
export async function eventually<T>(what: string, read: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---- Halo over HTTP ---------------------------------------------------------------------------

/** An EIP-4361 message for `gatewayUrl`, with a nonce the gateway issued, signed by `account`. */
export async function signedSignIn(gatewayUrl: string, account: LocalAccount, chainId: number): Promise<{ message: string; signature: `0x${string}` }> {
  const { nonce } = (await (await fetch(`${gatewayUrl}/v1/auth/nonce`)).json()) as { nonce: string };
  const url = new URL(gatewayUrl);
  const message = createSiweMessage({
    address: account.address,
    domain: url.host,
    uri: url.origin,
    chainId,
    nonce,
    version: "1",
    statement: "Sign in to the Lily gateway.",
    issuedAt: new Date(),
    expirationTime: new Date(Date.now() + 10 * 60_000),
  });
  return { message, signature: await account.signMessage({ message }) };
}

/** POST a signed message to /v1/auth/signin. */
export function postSignIn(gatewayUrl: string, signed: { message: string; signature: string }): Promise<Response> {
  return fetch(`${gatewayUrl}/v1/auth/signin`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(signed) });
}

/** Sign in as `account`: its session token. */
export async function signIn(gatewayUrl: string, account: LocalAccount, chainId: number): Promise<string> {
  const res = await postSignIn(gatewayUrl, await signedSignIn(gatewayUrl, account, chainId));
  const body = (await res.json()) as { token?: string };
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.token!;
}

/** A call to the gateway with a bearer token: its status and JSON body. */
export async function call<T = Record<string, unknown>>(
  gatewayUrl: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${gatewayUrl}${path}`, {
    method,
    headers: { ...(token && { authorization: `Bearer ${token}` }), ...(body !== undefined && { "content-type": "application/json" }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** A new API key made with `session` (POST /v1/keys). */
export async function createKey(
  gatewayUrl: string,
  session: string,
  params: Record<string, unknown> = {},
): Promise<{ id: string; key: string; prefix: string }> {
  const made = await call<{ id: string; key: string; prefix: string }>(gatewayUrl, "POST", "/v1/keys", session, params);
  assert.equal(made.status, 201, JSON.stringify(made.body));
  return made.body;
}

/** The official openai client on a gateway. */
export const openai = (gatewayUrl: string, apiKey: string) => new OpenAI({ baseURL: `${gatewayUrl}/v1`, apiKey, maxRetries: 0 });
