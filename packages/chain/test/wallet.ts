// Deploys contracts/test/ERC1271Wallet.sol (compiled here, not shipped in the artifacts) and
// gives it LILY in escrow, so tests can make a smart-contract wallet a deal party.
import { readFileSync } from "node:fs";
import { encodeFunctionData, parseEther, type Abi, type Address, type Hex, type LocalAccount } from "viem";
import { compileSolidity } from "../scripts/solc.ts";
import { createLilyClient, lilyDealsAbi, lilyTokenAbi, transferToken } from "../src/index.ts";
import type { Fixture } from "./fixture.ts";

export const WALLET_DEPOSIT = parseEther("10");

/**
 * A wallet owned by `owner`, with WALLET_DEPOSIT in the escrow of `escrow` (LilyDeals unless
 * given, e.g. LilyTrustDeals, whose balances are its own).
 */
export async function deployWallet(
  f: Pick<Fixture, "anvil" | "addresses" | "deployer" | "depositors">,
  owner: LocalAccount,
  escrow?: Address,
): Promise<Address> {
  const path = "contracts/test/ERC1271Wallet.sol";
  const source = readFileSync(new URL(`../../../${path}`, import.meta.url), "utf8");
  const { abi, bytecode } = compileSolidity({ [path]: source }).contracts.ERC1271Wallet;

  const client = createLilyClient({ rpcUrl: f.anvil.rpcUrl, account: owner, addresses: f.addresses });
  const { publicClient, walletClient } = client;
  const deployed = await publicClient.waitForTransactionReceipt({
    hash: await walletClient!.deployContract({ abi: abi as Abi, bytecode, args: [owner.address] }),
  });
  const wallet = deployed.contractAddress!;
  await transferToken(f.deployer, { to: wallet, amount: WALLET_DEPOSIT });

  const execute = async (target: Address, data: Hex) => {
    const hash = await walletClient!.writeContract({ address: wallet, abi: abi as Abi, functionName: "execute", args: [target, data] });
    await publicClient.waitForTransactionReceipt({ hash });
  };
  const { token } = f.addresses;
  const into = escrow ?? f.addresses.deals;
  await execute(token, encodeFunctionData({ abi: lilyTokenAbi, functionName: "approve", args: [into, WALLET_DEPOSIT] }));
  // Every Lily escrow contract shares Escrow's deposit.
  await execute(into, encodeFunctionData({ abi: lilyDealsAbi, functionName: "deposit", args: [WALLET_DEPOSIT] }));
  f.depositors.push(wallet);
  return wallet;
}
