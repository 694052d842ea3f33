// The studio's entry: routes in the URL's hash (so relative asset URLs work on every page and
// under any path the gateway serves it at), each page loaded with the app shell.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createHashRouter, RouterProvider } from "react-router";
import { AuthProvider } from "./auth.tsx";
import { Layout } from "./Layout.tsx";
import { Chat } from "./pages/Chat.tsx";
import { History } from "./pages/History.tsx";
import { Marketplace } from "./pages/Marketplace.tsx";
import { RunModule } from "./pages/RunModule.tsx";
import "./styles.css";

const router = createHashRouter([
  {
    element: <Layout />,
    children: [
      { index: true, element: <Marketplace /> },
      { path: "modules/:name", element: <RunModule /> },
      // Publish and module pages: loaded when first opened (they bring viem's chain clients and CIDs).
      { path: "modules/:name/about", lazy: () => import("./pages/Module.tsx").then((m) => ({ Component: m.Module })) },
      { path: "publish", lazy: () => import("./pages/Publish.tsx").then((m) => ({ Component: m.Publish })) },
      { path: "chat", element: <Chat /> },
      { path: "history", element: <History /> },
      // A job's page: its signed records, transactions and a challenge of its result; loaded when first opened.
      { path: "jobs/:id", lazy: () => import("./pages/Job.tsx").then((m) => ({ Component: m.Job })) },
      // Providers: the network view and a provider's dashboard, loaded when first opened (the dashboard's chart later still).
      { path: "providers", lazy: () => import("./pages/Providers.tsx").then((m) => ({ Component: m.Providers })) },
      { path: "providers/:address", lazy: () => import("./pages/Provider.tsx").then((m) => ({ Component: m.Provider })) },
      { path: "*", element: <p>No such page.</p> },
    ],
  },
]);

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <AuthProvider>
      <RouterProvider router={router} />
    </AuthProvider>
  </StrictMode>,
);
