// @lily/verification: the off-chain half of programmable verification. Policies (what a deal's
// policy means, whether its terms are safe, what it costs and catches) and comparators (when a
// re-run counts as the same result). Pure: no I/O, no clock, no Node-only modules.
export * from "./policies/index.ts";
export * from "./comparators/index.ts";
