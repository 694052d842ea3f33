// The provider's own small HTTP server: GET /metrics (Prometheus text) for a scraper, GET /status
// (JSON, status.ts) for `lily provider status`. Read-only, and bound to loopback unless the
// operator says otherwise; each request reads the provider's database afresh.
import type { AddressInfo } from "node:net";
import { nodeHttp } from "@lily/api";
import { LilyError, wireJson } from "@lily/protocol";
import type { Logger } from "@lily/node-kit";
import type { DealStats } from "./db.ts";
import { renderMetrics } from "./metrics.ts";
import { PROMETHEUS_CONTENT_TYPE } from "./promText.ts";
import type { ProviderStatus } from "./status.ts";

export interface MetricsServer {
  /** http://host:port, the port chosen by the OS when 0 was asked for. */
  url: string;
  close(): Promise<void>;
}

export function startMetricsServer(
  o: { port: number; host: string },
  read: () => { status: ProviderStatus; stats: DealStats },
  logger: Logger,
): Promise<MetricsServer> {
  const server = nodeHttp.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (req.method !== "GET" || (path !== "/metrics" && path !== "/status")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: GET /metrics or /status\n");
      return;
    }
    let body: string;
    try {
      const r = read();
      body = path === "/metrics" ? renderMetrics(r.status, r.stats) : wireJson(r.status);
    } catch (e) {
      logger.warn("metrics not read", { err: e });
      res.writeHead(500, { "content-type": "text/plain" }).end("metrics not read\n");
      return;
    }
    res.writeHead(200, { "content-type": path === "/metrics" ? PROMETHEUS_CONTENT_TYPE : "application/json" }).end(body);
  });
  return new Promise((resolve, reject) => {
    server.once("error", (e) =>
      reject(
        new LilyError({ code: "CONFIG", field: "metricsPort", message: `metricsPort: cannot serve metrics on ${o.host}:${o.port} (${e.message})`, cause: e }),
      ),
    );
    server.listen(o.port, o.host, () => {
      const { address, port } = server.address() as AddressInfo;
      const host = address.includes(":") ? `[${address}]` : address;
      resolve({
        url: `http://${host}:${port}`,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            // A scraper's keep-alive connection must not hold the provider's shutdown.
            server.closeAllConnections();
          }),
      });
    });
  });
}
