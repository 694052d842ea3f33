// The gateway a command talks to: --gateway-url, else the one the devnet wrote to network.json.
import type { Command } from "commander";
import { LilyError } from "@lily/protocol";
import type { NetworkConfig } from "./network.ts";

export function gatewayUrlOf(cmd: Command, net: NetworkConfig): string {
  const flag = (cmd.optsWithGlobals() as { gatewayUrl?: string }).gatewayUrl;
  const url = flag ?? net.gatewayUrl;
  if (!url)
    throw new LilyError({
      code: "CONFIG",
      field: "--gateway-url",
      message: "--gateway-url: no gateway known",
      hint: "start `npx lily devnet` (it runs one) or pass --gateway-url",
    });
  return url;
}
