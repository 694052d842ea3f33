// When the mediator whose turn it is can change, so a mediator without the turn looks again then
// instead of asking the chain on every pass. Two clocks move it (contracts/policies/Mediation.sol):
// - time: the turn passes to the next eligible mediator every MEDIATOR_TURN seconds after the
//   mediation began, so an absent mediator delays a ruling by one turn;
// - blocks, until the draw is locked: the seed is the hash of block `drawBlock + 1` while that hash
//   is available (256 blocks), then of the first block of the current 256-block epoch. The drawn
//   mediator locks the draw (`lockDraw`) first, so its turn lasts its time, however fast blocks come.

export const BLOCKHASH_WINDOW = 256;

/** The first block, after `currentBlock`, at which the unlocked draw for `drawBlock` may pick someone else. */
export function nextDrawChange(drawBlock: number, currentBlock: number): number {
  const first = drawBlock + 1;
  if (currentBlock <= first) return first + 1; // not drawn yet: the seed block is not mined
  const age = currentBlock - first;
  return first + BLOCKHASH_WINDOW * (Math.floor((age - 1) / BLOCKHASH_WINDOW) + 1) + 1;
}

/** The chain time (unix seconds) after `now` at which the turn of a mediation begun at `challengedAt` passes on. */
export function nextTurnAt(challengedAt: number, turnSeconds: number, now: number): number {
  const turn = Math.floor(Math.max(0, now - challengedAt) / turnSeconds);
  return challengedAt + (turn + 1) * turnSeconds;
}
