// When the mediator draw for a dispute can change. The contract draws from the hash of block
// `drawBlock + 1` while that hash is available (256 blocks), then from the first block of the
// current 256-block epoch (Mediation.seedBlock): so a drawn mediator that does not rule is
// replaced every 256 blocks until the mediation times out. A mediator not drawn now looks again
// at the next change instead of asking the chain on every pass.

export const BLOCKHASH_WINDOW = 256;

/** The first block, after `currentBlock`, at which the draw for `drawBlock` may pick someone else. */
export function nextDrawChange(drawBlock: number, currentBlock: number): number {
  const first = drawBlock + 1;
  if (currentBlock <= first) return first + 1; // not drawn yet: the seed block is not mined
  const age = currentBlock - first;
  return first + BLOCKHASH_WINDOW * (Math.floor((age - 1) / BLOCKHASH_WINDOW) + 1) + 1;
}
