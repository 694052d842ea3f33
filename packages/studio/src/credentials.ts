// What the signed-in user holds, kept in sessionStorage for this tab: the session token from
// Sign-In with Ethereum (for jobs, keys and history) and an API key made with it (for chat).

export interface Credentials {
  address: string;
  token: string;
  expiresAt: number;
  /** The API key created after sign-in; chat needs a key, not a session. */
  apiKey?: string;
}

const KEY = "lily.studio.credentials";

export function loadCredentials(): Credentials | null {
  try {
    const c = JSON.parse(sessionStorage.getItem(KEY) ?? "null") as Credentials | null;
    return c && c.expiresAt > Date.now() ? c : null;
  } catch {
    return null;
  }
}

export function saveCredentials(c: Credentials | null): void {
  if (c) sessionStorage.setItem(KEY, JSON.stringify(c));
  else sessionStorage.removeItem(KEY);
}
