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

  /** The news so far, for the pass that starts now (the next pass starts from none). */
  take(): News {
    const all = this.forAll;
    const named: ReadonlySet<string> = new Set(this.deals);
    this.forAll = false;
    this.deals.clear();
    return { all, named, concerns: (dealId) => all || named.has(dealId.toLowerCase()) };
  }
}

/** What one pass was told. */
export interface News {
  /** News that named no deal: it concerns every deal. */
  all: boolean;
  /** The deals news named (lowercase ids). */
  named: ReadonlySet<string>;
  /** Whether the news concerns the deal. */
  concerns(dealId: string): boolean;
}
