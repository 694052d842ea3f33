import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { JobEntry } from "@lily/sdk";
import { Policy, legacyTrustNonce, type Deal } from "@lily/protocol";
import { sqliteJournal } from "../src/sqliteJournal.ts";
import { jobEntry as entry, offer } from "../../cli/test/jobEntry.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const tempJournal = () => sqliteJournal(join(tempDir("lily-journal-"), "jobs.db"));

test("a job put into the journal comes back the same, amounts as bigints", () => {
  const journal = tempJournal();
  const job = entry("a1", 1000);
  journal.put(job);
  assert.deepEqual(journal.get(job.jobOfferId), job);
  assert.equal(typeof journal.get(job.jobOfferId)!.offer.maxPrice, "bigint");
});

test("a job is found whatever the case of its id", () => {
  const journal = tempJournal();
  const job = entry("ab", 1000);
  journal.put(job);
  assert.equal(journal.get(job.jobOfferId.toUpperCase().replace("0X", "0x") as JobEntry["jobOfferId"])?.jobOfferId, job.jobOfferId);
});

test("putting a job again updates it instead of adding a second one", () => {
  const journal = tempJournal();
  const job = entry("a1", 1000);
  journal.put(job);
  journal.put({ ...job, stage: "completed", resultCid: offer.inputs, outDir: "/tmp/out" });
  assert.equal(journal.list().length, 1);
  assert.equal(journal.get(job.jobOfferId)?.stage, "completed");
  assert.equal(journal.get(job.jobOfferId)?.outDir, "/tmp/out");
});

test("the journal lists the newest job first", () => {
  const journal = tempJournal();
  journal.put(entry("01", 1000));
  journal.put(entry("03", 3000));
  journal.put(entry("02", 2000));
  assert.deepEqual(
    journal.list().map((j) => j.createdAt),
    [3000, 2000, 1000],
  );
});

test("a job that ended without a match keeps its stage and the reason", () => {
  const journal = tempJournal();
  const job = entry("b2", 1000, { stage: "no-match", error: "no provider matched the job (0x9C1…: price above max)" });
  journal.put(job);
  const back = journal.list()[0]!;
  assert.equal(back.stage, "no-match");
  assert.equal(back.error, "no provider matched the job (0x9C1…: price above max)");
});

test("the journal survives closing and reopening its file", () => {
  const path = join(tempDir("lily-journal-"), "jobs.db");
  const first = sqliteJournal(path);
  first.put(entry("c3", 1000));
  first.close();
  assert.equal(sqliteJournal(path).list().length, 1);
});

test("a routed deal's trust nonce survives closing and reopening the journal, as the same bigint (past a double's precision)", () => {
  const path = join(tempDir("lily-journal-"), "jobs.db");
  const trustNonce = 2n ** 63n + 12345n;
  const job = entry("d4", 1000, { stage: "signed", trustNonce });
  const first = sqliteJournal(path);
  first.put(job);
  first.close();
  const reopened = sqliteJournal(path);
  assert.equal(reopened.get(job.jobOfferId)?.trustNonce, trustNonce);
  assert.deepEqual(reopened.list(), [job]);
  reopened.close();
});

test("a trust deal journaled before providers picked nonces comes back with the nonce it was signed under (its id's top 64 bits); other deals with none", () => {
  const path = join(tempDir("lily-journal-"), "jobs.db");
  const zero = `0x${"00".repeat(32)}` as const;
  const deal: Deal = {
    jobCreator: offer.jobCreator,
    provider: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    jobOffer: `0x${"d6".padStart(64, "0")}`,
    resourceOffer: `0x${"ee".repeat(32)}`,
    price: 10n ** 18n,
    collateral: 10n ** 18n,
    openBy: 1_800_000_060n,
    deadline: 1_800_000_600n,
    policy: Policy.trust,
    policyParam: 0n,
    mediationFee: 0n,
    mediators: zero,
    replicas: zero,
    moduleCreator: "0x0000000000000000000000000000000000000000",
    royaltyBps: 0,
  };
  const trustId = `0x${"ab".repeat(32)}` as const;
  const first = sqliteJournal(path);
  first.put(entry("d6", 1000, { stage: "opened", dealId: trustId, deal }));
  first.put(entry("d7", 1001, { stage: "opened", dealId: `0x${"cd".repeat(32)}`, deal: { ...deal, policy: Policy.optimistic, policyParam: 60n } }));
  first.close();
  const reopened = sqliteJournal(path);
  assert.equal(reopened.get(`0x${"d6".padStart(64, "0")}`)?.trustNonce, legacyTrustNonce(trustId));
  assert.equal(legacyTrustNonce(trustId), 0xababababababababn);
  assert.equal(reopened.get(`0x${"d7".padStart(64, "0")}`)?.trustNonce, undefined);
  reopened.close();
});
