// The frame of every page: a skip link, the header with the navigation and who is signed in, and
// the page itself in <main>. The skip link is a button: with routes in the hash, #main would navigate.
import { NavLink, Outlet } from "react-router";
import { useAuth } from "./auth.tsx";
import { short } from "./format.ts";
import { SignInButtons } from "./SignInButtons.tsx";

export function Layout() {
  const auth = useAuth();
  return (
    <>
      <button type="button" className="skip" onClick={() => document.getElementById("main")?.focus()}>
        Skip to content
      </button>
      <header className="top">
        <NavLink to="/" className="brand">
          Lily Studio
        </NavLink>
        <nav aria-label="Main">
          <ul>
            <li>
              <NavLink to="/" end>
                Marketplace
              </NavLink>
            </li>
            <li>
              <NavLink to="/chat">Chat</NavLink>
            </li>
            <li>
              <NavLink to="/history">History</NavLink>
            </li>
            <li>
              <NavLink to="/publish">Publish</NavLink>
            </li>
            <li>
              <NavLink to="/providers">Providers</NavLink>
            </li>
          </ul>
        </nav>
        <div className="account" aria-live="polite">
          {auth.credentials ? (
            <>
              <span data-testid="signed-in" title={auth.credentials.address}>
                Signed in as {short(auth.credentials.address)}
              </span>
              <button type="button" onClick={auth.signOut}>
                Sign out
              </button>
            </>
          ) : auth.busy ? (
            <span>Signing in…</span>
          ) : (
            <SignInButtons />
          )}
          {auth.error && (
            <p role="alert" className="error">
              Sign-in failed: {auth.error}
            </p>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}
