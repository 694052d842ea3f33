// `lily publish-ipfs <cid> --ipfs-api <url>`: copy a result, a module or a file from the Lily store
// to an IPFS node the user already runs (Kubo's RPC API), every block pinned there, so the node keeps
// it and provides it to the IPFS network under the same CID (publishToIpfs in @lily/store).
import type { Command } from "commander";
import { parseCid } from "@lily/protocol";
import { publishToIpfs, parseIpfsApiUrl, StoreClient } from "@lily/store";
import { resolveNetwork } from "../config/resolveNetwork.ts";
import { createOutput } from "../output.ts";

export function registerPublishIpfs(program: Command): void {
  program
    .command("publish-ipfs")
    .description("copy a result, module or file (by CID) from the Lily store to your IPFS node, pinned there")
    .argument("<cid>", "what to publish: a result's CID (its files go with it), a module manifest's, a file's")
    .requiredOption("--ipfs-api <url>", "your IPFS node's RPC API (Kubo), e.g. http://127.0.0.1:5001")
    .option("--no-pin", "store the blocks without pinning them (the node's garbage collector may drop them)")
    .option("--store-url <url>", "the Lily store to read from (default: from network.json)")
    .option("--json", "print one JSON document instead of text")
    .action(async (cid: string, o: { ipfsApi: string; pin: boolean; storeUrl?: string; json?: boolean }, cmd: Command) => {
      const out = createOutput({ json: Boolean(o.json) });
      // Both checked before anything is read or sent.
      parseCid(cid, "cid");
      const api = parseIpfsApiUrl(o.ipfsApi, "--ipfs-api");
      const storeUrl = o.storeUrl ?? resolveNetwork(cmd).storeUrl;
      const published = await publishToIpfs(new StoreClient(storeUrl), cid, api.href, {
        pin: o.pin,
        onBlock: (b) => out.progress(`${b.cid} (${b.size} bytes)`),
      });
      out.result(published);
      out.line(`published ${published.cid} to the IPFS node at ${api.origin}: ${published.blocks} blocks, ${published.bytes} bytes${o.pin ? ", pinned" : ""}`);
      if (published.bigBlocks > 0)
        out.line(`note: ${published.bigBlocks} blocks are over 1 MiB; your node keeps them, but IPFS peers fetching over Bitswap may refuse them`);
      out.line(`fetch it with any IPFS tool: ipfs://${published.cid}`);
    });
}
