// The gateway's chain side across a chain node restart. The lease sweep (every 10 s) asks for the
// claim window, read once from the chain and kept: a first read that met the node while it was
// away must not be kept, or every later sweep fails with that old error while the node answers
// everyone else again (a chaos run's gateway did so for minutes after the node's restart).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { createLilyClient, deployLily, devAccounts, leaseWindows, startAnvil, type Anvil } from "@lily/chain";
import { isLilyError } from "@lily/protocol";
import { tempDir } from "../../../test/support/tempDir.ts";
import { leaseChain } from "../src/leases/leaseChain.ts";

let anvil: Anvil | undefined;
after(() => anvil?.stop());

test("a claim window read while the chain node is away is read again once it is back", async () => {
  const statePath = join(tempDir("lily-lease-chain-"), "anvil-state.json");
  anvil = await startAnvil({ statePath });
  const port = Number(new URL(anvil.rpcUrl).port);
  const addresses = await deployLily({ rpcUrl: anvil.rpcUrl, deployerKey: devAccounts[0]!, supply: 10n ** 24n });
  const chain = createLilyClient({ rpcUrl: anvil.rpcUrl, addresses });
  const expected = (await leaseWindows(chain)).claimWindowSeconds;
  const leases = leaseChain(chain);

  await anvil.stop(); // saves the deployment
  await assert.rejects(leases.claimWindowSeconds(), (e: unknown) => isLilyError(e, "UNREACHABLE"));

  anvil = await startAnvil({ port, statePath });
  assert.equal(await leases.claimWindowSeconds(), expected);
  // Once read, it is kept: the node going away again does not matter.
  await anvil.stop();
  assert.equal(await leases.claimWindowSeconds(), expected);
});
