// A wide table's frame: at a phone's width the table scrolls sideways inside it, not the page.
// A region that scrolls must be reachable by keyboard to be scrolled, so it takes focus, and its
// label says what it holds.
import type { ReactNode } from "react";

export function ScrollRegion({ label, children }: { label: string; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard to scroll it (WCAG 2.1.1)
    <section className="table-wrap" aria-label={label} tabIndex={0}>
      {children}
    </section>
  );
}
