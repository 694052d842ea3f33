// Vite builds the studio into dist/ with relative asset URLs (base "./"), so the gateway can serve
// it at any path. `LILY_GATEWAY=http://127.0.0.1:PORT npm run dev` proxies /v1 to a running gateway.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  base: "./",
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, reportCompressedSize: true },
  server: process.env.LILY_GATEWAY ? { proxy: { "/v1": { target: process.env.LILY_GATEWAY, changeOrigin: true } } } : {},
});
