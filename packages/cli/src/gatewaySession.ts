// Sign in to a gateway with a role's wallet (Sign-In with Ethereum, EIP-4361): ask a nonce, sign
// the message, get a session token. `lily keys` manages API keys with it; nothing is stored.
import { createSiweMessage } from "viem/siwe";
import type { LocalAccount } from "viem";
import { LilyError } from "@lily/protocol";

export interface GatewaySession {
  url: string;
  token: string;
  address: string;
  /** A JSON request to the gateway with the session; errors come back as LilyErrors. */
  call<T>(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<T>;
}

export async function signInToGateway(url: string, account: LocalAccount, chainId: number): Promise<GatewaySession> {
  const base = url.replace(/\/$/, "");
  const raw = async <T>(method: string, path: string, body: unknown, token?: string): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: { "content-type": "application/json", ...(token && { authorization: `Bearer ${token}` }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    } catch (e) {
      throw new LilyError({
        code: "UNREACHABLE",
        field: "--gateway-url",
        message: `the gateway at ${base} did not answer`,
        hint: "start one (`npx lily devnet` starts one) or pass --gateway-url",
        cause: e,
      });
    }
    const json = (await res.json().catch(() => ({}))) as { error?: { message?: string; code?: string; param?: string } };
    if (!res.ok) {
      const code =
        res.status === 401
          ? "UNAUTHORIZED"
          : res.status === 403
            ? "FORBIDDEN"
            : res.status === 404
              ? "NOT_FOUND"
              : res.status === 429
                ? "RATE_LIMITED"
                : res.status === 400
                  ? "INVALID_INPUT"
                  : "INTERNAL";
      throw new LilyError({ code, field: json.error?.param ?? undefined, message: `gateway: ${json.error?.message ?? `HTTP ${res.status}`}` });
    }
    return json as T;
  };
  const { nonce } = await raw<{ nonce: string }>("GET", "/v1/auth/nonce", undefined);
  const origin = new URL(base);
  const message = createSiweMessage({
    address: account.address,
    chainId,
    domain: origin.host,
    nonce,
    uri: origin.origin,
    version: "1",
    statement: "Sign in to the Lily gateway.",
    issuedAt: new Date(),
    expirationTime: new Date(Date.now() + 10 * 60_000),
  });
  const signature = await account.signMessage({ message });
  const session = await raw<{ token: string; address: string }>("POST", "/v1/auth/signin", { message, signature });
  return { url: base, token: session.token, address: session.address, call: (method, path, body) => raw(method, path, body, session.token) };
}
