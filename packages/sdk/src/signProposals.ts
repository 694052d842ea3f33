// Sign what the solver proposed for a job: one deal, or under replicate(k) the whole group of k
// at once, each already signed by its provider (the job creator signs last). Every proposal is
// checked first (checkDeal, replicaGroupFlaw, the provider's signature); one refusal signs none.
// The journal records the signed deals before any signature leaves, so a crash can never leave a
// signed deal the job creator does not know about. Signatures are over the form the deal's contract
// takes (dealRoute): a provider's Deal signature on a deal routed to LilyTrustDeals is refused, and
// the job creator signs the TrustDeal under the nonce its provider picked and signed.
import { onTrustDeals, verifyDealSignature } from "@lily/chain";
import { LilyError, hashRecord, isLilyError, type DealRecord, type ResourceOfferRecord } from "@lily/protocol";
import type { JobCreatorContext } from "./context.ts";
import { checkDeal, replicaGroupFlaw } from "./checkDeal.ts";
import { noteNonceSigned, otherDealUnderNonce } from "./trustNonces.ts";
import type { JobEntry } from "./journal.ts";
import type { OnProgress } from "./progress.ts";
import type { SignedDeal } from "./nextStep.ts";

export async function signProposals(ctx: JobCreatorContext, entry: JobEntry, proposals: readonly DealRecord[], k: number, progress: OnProgress): Promise<void> {
  if (k > 1) {
    const flaw = replicaGroupFlaw(proposals, k);
    if (flaw) throw new LilyError({ code: "CONFLICT", field: flaw.field, message: `refusing to sign the replica group: ${flaw.reason}` });
  }
  const now = Math.floor(Date.now() / 1000);
  const job = { id: entry.jobOfferId, offer: entry.offer };
  for (const p of proposals) {
    // REJECT: the id is what the journal, the solver and the provider know the deal by: it must be these terms' digest
    if (hashRecord(ctx.domain, "Deal", p.deal).toLowerCase() !== p.id.toLowerCase())
      throw new LilyError({ code: "CONFLICT", field: "id", message: `refusing to sign deal ${p.id}: it is not the digest of the proposed terms` });
    const other = p.trustNonce !== undefined && otherDealUnderNonce(ctx.journal, { dealId: p.id, provider: p.deal.provider, nonce: p.trustNonce });
    // REJECT: one deal per (provider, nonce) can open, and a second of ours under it could pass for the first on chain (trustNonces.ts)
    if (other)
      throw new LilyError({
        code: "CONFLICT",
        field: "trustNonce",
        message: `refusing to sign deal ${p.id}: its provider already signed deal ${other} with this job creator under nonce ${p.trustNonce}`,
      });
    // The provider's signature is checked while its resource offer is on the way (CPU during a
    // round trip); the refusals still come in the same order.
    const offerRead = resourceOfferOf(ctx, p);
    const providerSigned = p.providerSignature
      ? verifyDealSignature(ctx.chain.addresses, routedOf(p), p.providerSignature, { signer: p.deal.provider, field: "providerSignature" })
      : undefined;
    providerSigned?.catch(() => {}); // awaited below, after checkDeal
    const resourceOffer = await offerRead;
    await checkDeal(ctx.domain, p.deal, job, resourceOffer, now, { maxOpenDelaySeconds: ctx.submit.maxOpenDelaySeconds, ...(p.group && { group: p.group }) });
    // Kept only once it passed: its terms hash to its id and its provider signed them, so the next
    // deal on it is checked against the same record without asking the solver again.
    if (resourceOffer) ctx.recent.resourceOffers.set(p.deal.resourceOffer.toLowerCase(), resourceOffer);
    // REJECT: the provider's signature, over exactly these terms, is what makes the job creator's the last one needed
    if (!providerSigned)
      throw new LilyError({ code: "CONFLICT", field: "providerSignature", message: `refusing to sign deal ${p.id}: its provider has not signed it` });
    await providerSigned;
  }
  const signed: SignedDeal[] = proposals.map(routedOf);
  // A routed deal cannot open before its signature leaves: a block read now bounds where the chain's
  // search for its opening starts (LilyTrustDeals keeps no opening per deal), unless the block read
  // when the job was posted already does (submitJob.ts). Read while signing; a node that does not
  // answer only costs a longer search.
  const routedFrom =
    onTrustDeals(ctx.chain.addresses, signed[0]!.deal) && entry.trustFromBlock === undefined
      ? ctx.chain.publicClient.getBlockNumber().catch(() => undefined)
      : undefined;
  const signatures = await Promise.all(signed.map((s) => ctx.signDeal(s)));
  const from = await routedFrom;
  if (from !== undefined) entry.trustFromBlock = Number(from);
  // Journal first: a job creator must never lose track of a deal it signed.
  entry.dealId = signed[0]!.dealId;
  entry.deal = signed[0]!.deal;
  if (signed[0]!.trustNonce !== undefined) entry.trustNonce = signed[0]!.trustNonce;
  else delete entry.trustNonce;
  if (k > 1) entry.replicas = signed;
  else delete entry.replicas;
  entry.stage = "signed";
  delete entry.error;
  ctx.journal.put(entry);
  for (const s of signed) if (s.trustNonce !== undefined) noteNonceSigned(ctx.journal, { dealId: s.dealId, provider: s.deal.provider, nonce: s.trustNonce });
  for (const [i, s] of signed.entries()) {
    progress({ stage: "matched", dealId: s.dealId, provider: s.deal.provider, price: s.deal.price });
    await postSignature(ctx, s, signatures[i]!);
  }
  progress({ stage: "signed", dealId: entry.dealId });
}

/** Post the job creator's signature on a deal; a solver that misses it gets it again from the wait loop. */
export async function postSignature(ctx: JobCreatorContext, s: SignedDeal, signature?: `0x${string}`): Promise<void> {
  try {
    await ctx.solver.signDeal({
      params: { id: s.dealId },
      body: { signer: ctx.opts.account.address, signature: signature ?? (await ctx.signDeal(s)) },
    });
  } catch (e) {
    // Down, restarting, or the proposal already dropped: the deal then lapses at its openBy.
    if (!isLilyError(e, "UNREACHABLE") && !isLilyError(e, "CONFLICT") && !isLilyError(e, "NOT_FOUND")) throw e;
  }
}

async function resourceOfferOf(ctx: JobCreatorContext, p: DealRecord): Promise<ResourceOfferRecord | undefined> {
  const kept = ctx.recent.resourceOffers.get(p.deal.resourceOffer.toLowerCase());
  if (kept) return kept;
  try {
    return await ctx.solver.getResourceOffer({ params: { id: p.deal.resourceOffer } });
  } catch (e) {
    if (isLilyError(e, "NOT_FOUND")) return undefined; // checkDeal refuses, naming deal.resourceOffer
    throw e;
  }
}

/** A proposal as the route functions take it: a routed deal's nonce is the one its provider posted with its signature. */
function routedOf(p: DealRecord): SignedDeal {
  return { dealId: p.id, deal: p.deal, trustNonce: p.trustNonce };
}
