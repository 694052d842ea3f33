// @lily/mediator: the mediator role. `startMediator(opts, { logger })` runs it; the pure parts
// (judging a re-run against committed results, the dispute record) are exported for tests and tools.
export * from "./options.ts";
export * from "./mediator.ts";
export * from "./dispute.ts";
export * from "./db.ts";
export * from "./judge.ts";
export { disputeEventDefs, RULED_EVENT } from "./disputeEvents.ts";
