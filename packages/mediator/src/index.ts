// @lily/mediator: the mediator role. `startMediator(opts, { logger })` runs it as a process;
// `createMediator(settings, deps)` is the same unit with its chain, solver, store, executor and
// clock passed in. The pure parts (the next step for a dispute, judging a re-run against committed
// results, the dispute record) are exported for tests and tools.
export * from "./options.ts";
export * from "./mediator.ts";
export * from "./startMediator.ts";
export * from "./dispute.ts";
export * from "./db.ts";
export * from "./judge.ts";
export * from "./nextStep.ts";
export { disputeEventDefs, RULED_EVENT } from "./disputeEvents.ts";
export * from "./audit/createAuditor.ts";
export * from "./audit/judgeAnswer.ts";
export { checkAudit, auditAllowance } from "./audit/checkAudit.ts";
export { createModelSource, type AuditModelRunner, type ModelSource } from "./audit/modelSource.ts";
