// The terms of the disputed deal(s), recovered without trusting anyone: decoded from the calldata
// of the transaction that raised the dispute (challenge(deal), finalize(deal), settleReplicas(deals)
// all carry them) and kept only if they hash to the id the chain announced. A transaction sent
// through a contract wallet hides its calldata; then a solver's copy is used, checked the same way.
// A replica group is kept in the contracts' order, ascending by provider: the order of its ruling,
// and the order in which its first disputed replica (whose draw is the group's) is found.
import { isAddressEqual, type Abi, type Address } from "viem";
import { dealId, lilyDealsAbi, sortReplicas, type LilyClient } from "@lily/chain";
import type { Client, SolverRoutes } from "@lily/api";
import { LilyError, type DealMessage } from "@lily/protocol";
import { termsInCalldata } from "./calldata.ts";
import type { DisputeSighting } from "./dispute.ts";

export interface ResolvedTerms {
  deals: DealMessage[];
  /** Every address[] argument of the dispute's transaction (a mediator list, if one was given). */
  addressLists: Address[][];
}

export async function resolveDeals(chain: LilyClient, solver: Client<SolverRoutes>, d: DisputeSighting): Promise<ResolvedTerms> {
  const tx = await chain.publicClient.getTransaction({ hash: d.txHash });
  const direct = tx.to && isAddressEqual(tx.to, chain.addresses.deals);
  const found = direct ? termsInCalldata(lilyDealsAbi as Abi, tx.input) : { deals: [], groups: [], addressLists: [] };
  const idOf = (deal: DealMessage) => dealId(chain.addresses, deal).toLowerCase();

  if (d.kind === "replicas") {
    // REJECT: the group must be the one tallied: every replica of the announced job offer
    const group = found.groups.find((g) => g.every((x) => x.jobOffer.toLowerCase() === d.key));
    if (!group) throw new LilyError({ code: "NOT_FOUND", field: "txHash", message: `transaction ${d.txHash} carries no replica group for job offer ${d.key}` });
    return { deals: sortReplicas(group, (x) => x), addressLists: found.addressLists };
  }

  // REJECT: the terms must hash to the deal id the chain announced
  const deal = [...found.deals, ...found.groups.flat()].find((x) => idOf(x) === d.key);
  if (deal) return { deals: [deal], addressLists: found.addressLists };
  const record = await solver.getDeal({ params: { id: d.key } });
  if (idOf(record.deal) !== d.key) throw new LilyError({ code: "CONFLICT", field: "deal", message: `the solver's terms for ${d.key} hash to another deal` });
  return { deals: [record.deal], addressLists: [] };
}
