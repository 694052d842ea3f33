// Bounded work per message (issue 6, items 8 and 9): offer lifetimes are capped, and an oversized
// message is refused before the solver parses it or checks a signature, against a real server.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { MAX_MEDIATORS, toWire } from "@lily/protocol";
import { getAddress } from "viem";
import { startTestChain, startTestSolver, parties, resourceOffer, jobOffer, signer, fails, now, type TestChain } from "./harness.ts";

let chain: TestChain;
before(async () => {
  chain = await startTestChain();
});
after(() => chain.stop());

test("offer lifetimes beyond the caps are refused, naming the field, and nothing is stored", async (t) => {
  const { api } = await startTestSolver(t, chain, { maxJobOfferTtlSeconds: 600, maxResourceOfferTtlSeconds: 7200, maxJobTimeoutSeconds: 900 });
  const sign = signer(chain.domain);
  const { rp, jc } = await parties(chain, ["rp", "jc"]);
  const cases = [
    {
      says: "a job offer expiring past the job offer TTL",
      post: async () => api.postJobOffer({ body: await sign.jobOffer(jc, jobOffer(jc, { expiresAt: now() + 660n })) }),
      field: "offer.expiresAt",
    },
    {
      says: "a job offer whose timeout is past the cap",
      post: async () => api.postJobOffer({ body: await sign.jobOffer(jc, jobOffer(jc, { expiresAt: now() + 300n, timeoutSeconds: 901n })) }),
      field: "offer.timeoutSeconds",
    },
    {
      says: "a resource offer expiring past the resource offer TTL",
      post: async () => api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp, { expiresAt: now() + 7260n })) }),
      field: "offer.expiresAt",
    },
    {
      says: "a resource offer that never expires",
      post: async () => api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp, { expiresAt: 2n ** 64n - 1n })) }),
      field: "offer.expiresAt",
    },
  ];
  for (const c of cases) await assert.rejects(c.post(), fails("INVALID_INPUT", c.field), c.says);
  assert.deepEqual((await api.listResourceOffers({})).offers, []);

  // Within the caps, both are taken.
  await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp, { expiresAt: now() + 7000n })) });
  const job = await api.postJobOffer({ body: await sign.jobOffer(jc, jobOffer(jc, { expiresAt: now() + 500n, timeoutSeconds: 900n })) });
  assert.equal(job.status, "matched");
});

/** POST `body` to the solver; when `declared` is given, claim that Content-Length and send only `body`. */
function post(url: string, path: string, body: Buffer, declared?: number): Promise<{ status: number; error: { code: string; field?: string } }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL(path, url),
      { method: "POST", headers: { "content-type": "application/json", "content-length": declared ?? body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          resolve({ status: res.statusCode!, error: JSON.parse(Buffer.concat(chunks).toString()).error });
          req.destroy();
        });
      },
    );
    req.on("error", reject);
    req.write(body);
    if (declared === undefined) req.end();
  });
}

test("an oversized offer is refused before it is read or parsed: 43 MB declared, 100k mediators, 33 mediators", async (t) => {
  const { api, solver } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const { jc } = await parties(chain, ["jc"]);
  const many = (n: number) => Array.from({ length: n }, (_, i) => getAddress(`0x${(i + 1).toString(16).padStart(40, "0")}`));

  // 43 MB announced: refused on the header, after the first 64 KiB; the rest is never sent.
  const huge = await post(solver.url, "/v1/job-offers", Buffer.alloc(64 * 1024, 0x20), 43_000_000);
  assert.deepEqual([huge.status, huge.error.code, huge.error.field], [413, "INVALID_INPUT", "body"]);

  // 100k mediators (about 4.4 MB of JSON): over the route's body limit, so never parsed nor verified.
  const offer = jobOffer(jc, { mediators: [] });
  const body = Buffer.from(JSON.stringify({ offer: { ...(toWire(offer) as object), mediators: many(100_000) }, signature: `0x${"11".repeat(65)}` }));
  const flood = await post(solver.url, "/v1/job-offers", body);
  assert.deepEqual([flood.status, flood.error.code, flood.error.field], [413, "INVALID_INPUT", "body"]);

  // One mediator over the schema's bound, validly signed: refused by the schema, naming the field.
  const over = jobOffer(jc, { mediators: many(MAX_MEDIATORS + 1) });
  const signed = await sign.jobOffer(jc, over);
  const tooMany = await post(solver.url, "/v1/job-offers", Buffer.from(JSON.stringify(toWire(signed))));
  assert.deepEqual([tooMany.status, tooMany.error.code, tooMany.error.field], [400, "INVALID_INPUT", "body.offer.mediators"]);

  assert.equal((await api.health({})).role, "solver", "still answering");
  assert.deepEqual((await api.listDeals({})).deals, []);
});
