// A provider's deals as its database holds them, built without a network: for tests of the
// database and of single steps (trustNonces.test.ts, resultResend.test.ts).
import { keccak256, toHex } from "viem";
import { NO_MEDIATORS, Policy, type DealMessage } from "@lily/protocol";
import type { LocalDeal } from "../src/db.ts";
import { NO_RESOURCES } from "../src/resources.ts";
import { NOW, jobCreator, provider } from "./proposals.ts";

/** The n-th deal the provider signed, under `policy`, not yet numbered. */
export function signedDeal(n: number, policy: number = Policy.trust): LocalDeal {
  const deal: DealMessage = {
    jobCreator: jobCreator.address,
    provider: provider.address,
    jobOffer: keccak256(toHex(`trust nonce job ${n}`)),
    resourceOffer: keccak256(toHex("trust nonce resource")),
    price: 3n,
    collateral: 5n,
    openBy: BigInt(NOW + 60),
    deadline: BigInt(NOW + 600),
    policy,
    policyParam: policy === Policy.trust ? 0n : 600n,
    mediationFee: 0n,
    mediators: NO_MEDIATORS,
    replicas: NO_MEDIATORS,
    moduleCreator: jobCreator.address,
    royaltyBps: 0,
  };
  return { id: keccak256(toHex(`trust nonce deal ${n}`)), deal, module: "bafy-m", inputs: "bafy-i", needs: NO_RESOURCES, status: "signed" };
}
