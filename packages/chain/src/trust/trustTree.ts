// The Merkle tree of a trust batch, laid out as OpenZeppelin's SimpleMerkleTree lays it out with
// unsorted leaves (the contract builds the same root at open, and checks multiproofs with
// OpenZeppelin's MerkleProof): a complete binary tree in heap order, leaf i at node 2n-2-i, each
// node the keccak of its two children in ascending order.
import { concat, keccak256, type Hex } from "viem";
import { LilyError } from "@lily/protocol";

/** A multiproof of some leaves: `indices` is the order the contract must be given them in. */
export interface TrustMultiProof {
  /** The proven leaves' positions in the batch, in the order the proof consumes them. */
  indices: number[];
  proof: Hex[];
  proofFlags: boolean[];
}

const hashPair = (a: Hex, b: Hex): Hex => {
  const [x, y] = a.toLowerCase() <= b.toLowerCase() ? [a, b] : [b, a];
  return keccak256(concat([x, y]));
};

function buildTree(leaves: readonly Hex[]): Hex[] {
  const n = leaves.length;
  if (n === 0) throw new LilyError({ code: "INVALID_INPUT", field: "leaves", message: "a batch tree needs at least one leaf" });
  const tree = new Array<Hex>(2 * n - 1);
  leaves.forEach((leaf, i) => {
    tree[2 * n - 2 - i] = leaf;
  });
  for (let i = n - 2; i >= 0; i--) tree[i] = hashPair(tree[2 * i + 1]!, tree[2 * i + 2]!);
  return tree;
}

/** The root the contract stores for a batch with these leaves. */
export function trustTreeRoot(leaves: readonly Hex[]): Hex {
  return buildTree(leaves)[0]!;
}

/**
 * A multiproof that the leaves at `positions` belong to the tree: queue the proven nodes from the
 * deepest and rightmost, and at each step either pair a node with its sibling when that sibling is
 * the next in the queue (flag true) or take the sibling from the proof (flag false).
 */
export function trustMultiProof(leaves: readonly Hex[], positions: readonly number[]): TrustMultiProof {
  const tree = buildTree(leaves);
  const n = leaves.length;
  const nodes = positions.map((p) => {
    if (!Number.isInteger(p) || p < 0 || p >= n) throw new LilyError({ code: "INVALID_INPUT", field: "positions", message: `no leaf ${p} in a batch of ${n}` });
    return 2 * n - 2 - p;
  });
  nodes.sort((a, b) => b - a);
  if (nodes.some((node, i) => i > 0 && node === nodes[i - 1]))
    throw new LilyError({ code: "INVALID_INPUT", field: "positions", message: "a leaf is proven at most once" });
  const queue = [...nodes];
  const proof: Hex[] = [];
  const proofFlags: boolean[] = [];
  while (queue.length > 0 && queue[0]! > 0) {
    const node = queue.shift()!;
    const sibling = node % 2 === 1 ? node + 1 : node - 1;
    if (queue[0] === sibling) {
      proofFlags.push(true);
      queue.shift();
    } else {
      proofFlags.push(false);
      proof.push(tree[sibling]!);
    }
    queue.push((node - 1) >> 1);
  }
  return { indices: nodes.map((node) => 2 * n - 2 - node), proof, proofFlags };
}
