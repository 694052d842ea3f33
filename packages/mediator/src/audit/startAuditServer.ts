// The mediator's HTTP server: its health (who it is) and the audit routes, served with the
// shared route definitions so the gateway's client and this server cannot drift apart.
import { serve, type RunningServer } from "@lily/api";
import { LilyError } from "@lily/protocol";
import type { Logger } from "@lily/node-kit";
import type { Address } from "viem";
import { mediatorRoutes } from "@lily/api";
import type { Auditor } from "./createAuditor.ts";

export function startAuditServer(
  opts: { host: string; port: number; chainId: number; leases: Address },
  deps: { auditor: Auditor; me: Address; logger: Logger },
): Promise<RunningServer> {
  return serve(
    mediatorRoutes,
    {
      health: () => ({ role: "mediator" as const, address: deps.me, chainId: opts.chainId, leases: opts.leases }),
      postAudit: ({ body }) => deps.auditor.audit(body),
      getAudit: ({ params }) => {
        const found = deps.auditor.get(params.id);
        if (!found) throw new LilyError({ code: "NOT_FOUND", field: "id", message: `id: no audit of receipt ${params.id}` });
        return found;
      },
    },
    { host: opts.host, port: opts.port, onError: (e, req) => deps.logger.error("request failed", { err: e, method: req.method, url: req.url }) },
  );
}
