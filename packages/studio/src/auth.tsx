// Who is signed in, shared with every page: the credentials in sessionStorage, and the two ways to
// sign in (the devnet's account, a browser wallet). The signing code is loaded only when used.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { type Credentials, loadCredentials, saveCredentials } from "./credentials.ts";
import { call } from "./gateway.ts";

interface Auth {
  credentials: Credentials | null;
  /** Whether the gateway offers its development account (a devnet). */
  devAccount: boolean;
  browserWallet: boolean;
  busy: boolean;
  error: string | null;
  signIn(how: "dev" | "wallet"): Promise<void>;
  signOut(): void;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [credentials, setCredentials] = useState<Credentials | null>(loadCredentials);
  const [devAccount, setDevAccount] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const browserWallet = typeof window !== "undefined" && window.ethereum !== undefined;

  useEffect(() => {
    call("v1/dev/account").then(
      () => setDevAccount(true),
      () => setDevAccount(false),
    );
  }, []);

  const signIn = useCallback(async (how: "dev" | "wallet") => {
    setBusy(true);
    setError(null);
    try {
      const s = await import("./signIn.ts");
      const c = how === "dev" ? await s.signInWithDevAccount() : await s.signInWithBrowserWallet();
      saveCredentials(c);
      setCredentials(c);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }, []);

  const signOut = useCallback(() => {
    const token = credentials?.token;
    saveCredentials(null);
    setCredentials(null);
    if (token) call("v1/auth/signout", { auth: token, body: {} }).catch(() => undefined);
  }, [credentials]);

  const value = useMemo(
    () => ({ credentials, devAccount, browserWallet, busy, error, signIn, signOut }),
    [credentials, devAccount, browserWallet, busy, error, signIn, signOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside AuthProvider");
  return auth;
}
