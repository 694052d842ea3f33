// Lily on any EVM JSON-RPC endpoint: a chain node started as a separate process, and
// `lily devnet --rpc-url` deploying to it and running a job there.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createLilyClient, devAccounts, getDealEvents, startAnvil, type Anvil } from "@lily/chain";
import { startDevnet, lily, tempHome, type Devnet } from "./lilyProcess.ts";

let node: Anvil | undefined;
let net: Devnet | undefined;
after(async () => {
  await net?.stop();
  await node?.stop();
});

test("the devnet deploys to an external chain given by --rpc-url and settles a job there", async () => {
  node = await startAnvil({ chainId: 4242 });
  net = await startDevnet(["--rpc-url", node.rpcUrl, "--deployer-key", devAccounts[0]!]);
  assert.equal(net.network.rpcUrl, node.rpcUrl);
  assert.equal(net.network.chainId, 4242);
  assert.match(net.output(), /chain id 4242/);
  assert.doesNotMatch(net.output(), /embedded anvil/);

  const r = await lily(net.home, ["run", "cowsay@1.0.0", "-i", "message=elsewhere", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.match(result.stdout, /< elsewhere >/);
  const events = await getDealEvents(createLilyClient({ rpcUrl: node.rpcUrl, addresses: net.network }), { dealId: result.dealId });
  assert.deepEqual(
    events.map((e) => e.name),
    ["DealOpened", "ResultCommitted", "DealSettled"],
  );
});

test("a devnet on --rpc-url without a deployer key says which flag is missing", async () => {
  const r = await lily(tempHome(), ["devnet", "--rpc-url", node!.rpcUrl]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /--deployer-key/);
});
