// Sign-In with Ethereum in the browser: the devnet's development account (GET /v1/dev/account,
// signed locally with viem) or a browser wallet (window.ethereum). The message names this page's
// host and origin and the gateway's chain, as the gateway checks. Then an API key is made for chat.
// Loaded on demand, so viem stays out of the first page's bundle.
import { createWalletClient, custom, getAddress, type EIP1193Provider } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createSiweMessage } from "viem/siwe";
import type { Credentials } from "./credentials.ts";
import { getJson } from "./gateway.ts";

declare global {
  interface Window {
    ethereum?: EIP1193Provider;
  }
}

type Signer = { address: `0x${string}`; sign: (message: string) => Promise<`0x${string}`> };

export const hasBrowserWallet = (): boolean => typeof window !== "undefined" && window.ethereum !== undefined;

export async function signInWithDevAccount(): Promise<Credentials> {
  const dev = await getJson<{ address: string; privateKey: `0x${string}` }>("v1/dev/account");
  const account = privateKeyToAccount(dev.privateKey);
  return signInWith({ address: account.address, sign: (message) => account.signMessage({ message }) });
}

export async function signInWithBrowserWallet(): Promise<Credentials> {
  if (!window.ethereum) throw new Error("no browser wallet on this page");
  const wallet = createWalletClient({ transport: custom(window.ethereum) });
  const [address] = await wallet.requestAddresses();
  if (!address) throw new Error("the wallet shared no account");
  return signInWith({ address, sign: (message) => wallet.signMessage({ account: address, message }) });
}

async function signInWith(signer: Signer): Promise<Credentials> {
  const [{ chainId }, { nonce }] = await Promise.all([getJson<{ chainId: number }>("v1/health"), getJson<{ nonce: string }>("v1/auth/nonce")]);
  const message = createSiweMessage({
    domain: location.host,
    uri: location.origin,
    address: getAddress(signer.address),
    chainId,
    nonce,
    version: "1",
    statement: "Sign in to Lily Studio.",
    issuedAt: new Date(),
  });
  const signature = await signer.sign(message);
  const session = await getJson<{ token: string; address: string; expiresAt: number }>("v1/auth/signin", { body: { message, signature } });
  const key = await getJson<{ key: string }>("v1/keys", { auth: session.token, body: { name: "studio" } });
  return { address: session.address, token: session.token, expiresAt: session.expiresAt, apiKey: key.key };
}
