// What news the provider's next pass brings, and about which deals. A pass hands each deal it
// follows a step; a deal whose step is still busy gets one more pass when the step ends, but only
// if the pass brought news about it (dealSteps.ts). News names its deal when it comes from a
// solver event; capacity freed, a reconnection or a lost block name none and concern every deal.
// Marking every busy deal at each event (a proposal for another deal included) made ~1.4 extra
// passes a job at load, each the solver's list and every followed deal's chain state read again.

export class PassNews {
  private forAll = false;
  private readonly deals = new Set<string>();

  /** News about `dealId`, or about every deal when none is named. */
  note(dealId?: string): void {
    if (dealId === undefined) this.forAll = true;
    else this.deals.add(dealId.toLowerCase());
  }

  /** The news so far, for the pass that starts now (the next pass starts from none): whether it concerns a deal. */
  take(): (dealId: string) => boolean {
    const all = this.forAll;
    const named = new Set(this.deals);
    this.forAll = false;
    this.deals.clear();
    return (dealId) => all || named.has(dealId.toLowerCase());
  }
}
