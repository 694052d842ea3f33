// Run inside the job creator's namespace by multiHost.test.ts, once the chain and the store are up
// on their own hosts: deploys the contracts to the chain over the test network, creates each
// role's key in its own home, funds it, publishes the built modules through the registry into the
// store (what `lily devnet` does, with its own code), and writes each home's network.json. Prints
// one JSON line: the deployment, the modules and each role's address.
//   node test/hosts/operator.ts '{"rpcUrl":..,"storeUrl":..,"solverUrl":..,"jobCreatorHome":..,"providers":[{"home":..,"name":..}]}'
import { parseEther } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createLilyClient, deployLily, devAccounts } from "@lily/chain";
import { StoreClient } from "@lily/store";
import { writeNetwork, type NetworkConfig } from "../../packages/cli/src/config/network.ts";
import { paths } from "../../packages/cli/src/config/home.ts";
import { roleAccount } from "../../packages/cli/src/keys.ts";
import { fundRoles } from "../../packages/cli/src/devnet/fundRoles.ts";
import { publishModules } from "../../packages/cli/src/devnet/publishModules.ts";
import { JOB_CREATOR_ROLE } from "../../packages/cli/src/config/home.ts";

interface Args {
  rpcUrl: string;
  storeUrl: string;
  solverUrl: string;
  jobCreatorHome: string;
  providers: { home: string; name: string }[];
}

const a = JSON.parse(process.argv[2]!) as Args;
const deployerKey = devAccounts[0]!;
const deployer = privateKeyToAccount(deployerKey);
const addresses = await deployLily({ rpcUrl: a.rpcUrl, deployerKey, supply: parseEther("1000000"), mediationTimeoutSeconds: 120 });
const jobCreator = roleAccount(a.jobCreatorHome, JOB_CREATOR_ROLE);
const providers = a.providers.map((p) => roleAccount(p.home, p.name));
await fundRoles(a.rpcUrl, addresses, deployer, [
  { account: jobCreator, escrow: parseEther("100") },
  ...providers.map((account) => ({ account, escrow: parseEther("500") })),
]);
const modules = await publishModules({ chain: createLilyClient({ rpcUrl: a.rpcUrl, account: deployer, addresses }), store: new StoreClient(a.storeUrl) });
const net: NetworkConfig = { rpcUrl: a.rpcUrl, ...addresses, solverUrl: a.solverUrl, storeUrl: a.storeUrl, modules, mediators: [] };
for (const home of [a.jobCreatorHome, ...a.providers.map((p) => p.home)]) writeNetwork(paths(home).network, net);
process.stdout.write(`${JSON.stringify({ ...addresses, modules, jobCreator: jobCreator.address, providers: providers.map((p) => p.address) })}\n`);
