import { test } from "node:test";
import assert from "node:assert/strict";
import { challengeStep } from "../src/challengeStep.ts";

test("a challenge sent is sent again only while the chain shows the deal committed in its window, and followed until nothing can be challenged", () => {
  const deal = { policyParam: 600n, deadline: 5_000n };
  const cases: [string, Parameters<typeof challengeStep>[0], bigint, ReturnType<typeof challengeStep>][] = [
    ["committed again (the challenge lost), window open", { state: "committed", committedAt: 1_000n }, 1_599n, "again"],
    ["committed again, the window closed", { state: "committed", committedAt: 1_000n }, 1_600n, "done"],
    ["still challenged, window open: it could still be lost", { state: "challenged", committedAt: 1_000n }, 1_200n, "follow"],
    ["challenged, the window closed", { state: "challenged", committedAt: 1_000n }, 1_600n, "done"],
    ["ruled in the window: the ruling and challenge could still be lost", { state: "slashed", committedAt: 1_000n }, 1_300n, "follow"],
    ["the commit lost too: a new one may come before the deadline", { state: "open", committedAt: 0n }, 4_000n, "follow"],
    ["the commit lost and the deadline passed", { state: "open", committedAt: 0n }, 5_001n, "done"],
  ];
  for (const [says, onChain, now, step] of cases) assert.equal(challengeStep(onChain, deal, now), step, says);
});
