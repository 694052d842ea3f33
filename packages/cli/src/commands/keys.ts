// `lily keys`: API keys for the gateway's OpenAI-compatible API, owned by a wallet.
//   create [--name n] [--limit <LILY>] [--rpm <n>]   a new key, shown once (only its hash is kept)
//   list                                              your keys: prefix, limits, what each spent
//   revoke <id>                                       a key stops working at once
// Each command signs in to the gateway with the role's wallet (Sign-In with Ethereum) first.
import type { Command } from "commander";
import { formatLily } from "@lily/protocol";
import { addNetworkFlags, resolveNetwork } from "../config/resolveNetwork.ts";
import { JOB_CREATOR_ROLE } from "../config/home.ts";
import { roleAccount } from "../keys.ts";
import { createOutput } from "../output.ts";
import { intOption, tokenOption } from "../flags.ts";
import { signInToGateway, type GatewaySession } from "../gatewaySession.ts";
import { gatewayUrlOf } from "../config/gatewayUrl.ts";

interface KeyView {
  id: string;
  name?: string | null;
  prefix: string;
  limit?: string | null;
  spent: string;
  rpm?: number | null;
  created_at: number;
  revoked_at?: number | null;
}

function withSession(cmd: Command, o: { as?: string; key?: string }): Promise<GatewaySession> {
  const net = resolveNetwork(cmd);
  return signInToGateway(gatewayUrlOf(cmd, net), roleAccount(net.home, o.as ?? JOB_CREATOR_ROLE, o.key), net.chainId);
}

export function registerKeys(program: Command): void {
  const keys = program.command("keys").description("API keys for the gateway (OpenAI-compatible): create, list, revoke");
  const common = (c: Command) =>
    addNetworkFlags(
      c
        .option("--gateway-url <url>", "the gateway (default: from network.json)")
        .option("--as <role>", "the wallet that owns the keys (default: the job creator's)")
        .option("--key <path>", "keystore file of that wallet")
        .option("--json", "print JSON"),
    );

  common(
    keys
      .command("create")
      .description("create an API key; it is shown once and only its hash is kept")
      .option("--name <name>", "a label for the key")
      .option("--limit <lily>", "spending limit in LILY (default: none)")
      .option("--rpm <n>", "requests per minute (default: none)"),
  ).action(async (o: Record<string, string | boolean | undefined>, cmd: Command) => {
    const out = createOutput({ json: o.json === true });
    const session = await withSession(cmd, o as { as?: string; key?: string });
    const created = await session.call<{ id: string; key: string; prefix: string }>("POST", "/v1/keys", {
      ...(o.name && { name: o.name }),
      ...(o.limit && { limit: tokenOption(o.limit as string, "--limit").toString() }),
      ...(o.rpm && { rpm: intOption(o.rpm as string, "--rpm") }),
    });
    out.line(`created key ${created.id} for ${session.address}; it is shown only now:`);
    out.line(created.key);
    out.line(`use it: OPENAI_BASE_URL=${session.url}/v1 OPENAI_API_KEY=${created.key}`);
    out.result({ ...created, baseURL: `${session.url}/v1` });
  });

  common(keys.command("list").description("your API keys: prefix, limits and what each has spent")).action(
    async (o: Record<string, string | boolean | undefined>, cmd: Command) => {
      const out = createOutput({ json: o.json === true });
      const session = await withSession(cmd, o as { as?: string; key?: string });
      const { data } = await session.call<{ data: KeyView[] }>("GET", "/v1/keys");
      for (const k of data) {
        const limit = k.limit ? `${formatLily(BigInt(k.limit))} LILY limit` : "no limit";
        out.line(
          `${k.id.padEnd(14)} ${`${k.prefix}…`.padEnd(18)} ${k.revoked_at ? "revoked" : "active "} spent ${formatLily(BigInt(k.spent))} LILY, ${limit}${k.rpm ? `, ${k.rpm}/min` : ""}${k.name ? `  ${k.name}` : ""}`,
        );
      }
      if (data.length === 0) out.line("no keys yet: `npx lily keys create`");
      out.result(data);
    },
  );

  common(keys.command("revoke <id>").description("revoke one of your keys; it stops working at once")).action(
    async (id: string, o: Record<string, string | boolean | undefined>, cmd: Command) => {
      const out = createOutput({ json: o.json === true });
      const session = await withSession(cmd, o as { as?: string; key?: string });
      await session.call("DELETE", `/v1/keys/${encodeURIComponent(id)}`);
      out.line(`revoked ${id}`);
      out.result({ id, revoked: true });
    },
  );
}
