// The ways to sign in this page offers: the devnet's account when the gateway has one, and a
// browser wallet when the page has window.ethereum.
import { useAuth } from "./auth.tsx";

export function SignInButtons() {
  const auth = useAuth();
  if (!auth.devAccount && !auth.browserWallet) return <span className="muted">No wallet found: install a browser wallet to sign in.</span>;
  return (
    <span className="signin-buttons">
      {auth.devAccount && (
        <button type="button" onClick={() => auth.signIn("dev")} disabled={auth.busy}>
          Use the devnet's account
        </button>
      )}
      {auth.browserWallet && (
        <button type="button" onClick={() => auth.signIn("wallet")} disabled={auth.busy}>
          Connect wallet
        </button>
      )}
    </span>
  );
}

/** Shown in place of a page that needs a signed-in user. */
export function SignInFirst({ what }: { what: string }) {
  return (
    <section aria-labelledby="signin-first">
      <h2 id="signin-first">Sign in to {what}</h2>
      <SignInButtons />
    </section>
  );
}
