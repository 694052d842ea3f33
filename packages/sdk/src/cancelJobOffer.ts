// cancelJobOffer: the job creator withdraws a job offer it gave up on, with a signed
// CancelJobOffer, so no solver keeps it matched and no provider keeps capacity for it.
import type { Hex } from "viem";
import { signRecord, type CancelJobOffer, type JobOfferRecord } from "@lily/protocol";
import type { JobCreatorContext } from "./context.ts";

export async function cancelJobOffer(ctx: JobCreatorContext, jobOfferId: Hex): Promise<JobOfferRecord> {
  const cancel: CancelJobOffer = { jobOffer: jobOfferId, jobCreator: ctx.opts.account.address, at: BigInt(Math.floor(Date.now() / 1000)) };
  const signature = await signRecord(ctx.opts.account, ctx.domain, "CancelJobOffer", cancel);
  return ctx.solver.cancelJobOffer({ params: { id: jobOfferId }, body: { cancel, signature } });
}
