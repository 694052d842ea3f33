import { test } from "node:test";
import assert from "node:assert/strict";
import { privateKeyToAccount, generatePrivateKey } from "viem/accounts";
import {
  hashRecord,
  signRecord,
  verifyRecord,
  isLilyError,
  toWire,
  NO_TX_HASH,
  SignedDealProgress,
  recordSchemas,
  types,
  type DealMessage,
  type DealProgressMessage,
} from "../src/index.ts";

const domain = { chainId: 31337, verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" } as const;
const jc = privateKeyToAccount(generatePrivateKey());
const rp = privateKeyToAccount(generatePrivateKey());
const deal: DealMessage = {
  jobCreator: jc.address,
  provider: rp.address,
  jobOffer: `0x${"11".repeat(32)}`,
  resourceOffer: `0x${"22".repeat(32)}`,
  price: 100n,
  collateral: 50n,
  openBy: 1_899_999_000n,
  deadline: 1_900_000_000n,
  policy: 0,
  policyParam: 0n,
  mediationFee: 0n,
  mediators: `0x${"00".repeat(32)}`,
  replicas: `0x${"00".repeat(32)}`,
  moduleCreator: "0x0000000000000000000000000000000000000000",
  royaltyBps: 0,
};

test("signRecord signs the record's digest: the same bytes as viem's signTypedData, with or without a digest signer", async () => {
  const typed = { domain: { name: "Lily", version: "1", ...domain }, types: { Deal: types.Deal }, primaryType: "Deal", message: deal } as const;
  const viems = await jc.signTypedData(typed as never);
  assert.equal(await signRecord(jc, domain, "Deal", deal), viems);
  // An account that only signs typed data (a wallet) gets the typed data itself.
  const { sign: _digestSigner, ...typedOnly } = jc;
  assert.equal(await signRecord(typedOnly as never, domain, "Deal", deal), viems);
});

test("a deal signed by a party verifies against that party", async () => {
  const sig = await signRecord(jc, domain, "Deal", deal);
  await verifyRecord(domain, "Deal", deal, sig, { signer: jc.address });
});

test("a deal signature does not verify for the other party", async () => {
  const sig = await signRecord(jc, domain, "Deal", deal);
  await assert.rejects(
    verifyRecord(domain, "Deal", deal, sig, { signer: rp.address, field: "providerSignature" }),
    (e) => isLilyError(e, "BAD_SIGNATURE") && e.field === "providerSignature",
  );
});

test("altering any term of a signed deal invalidates the signature", async () => {
  const sig = await signRecord(jc, domain, "Deal", deal);
  await assert.rejects(verifyRecord(domain, "Deal", { ...deal, price: 101n }, sig, { signer: jc.address }), (e) => isLilyError(e, "BAD_SIGNATURE"));
});

test("the deal id is bound to the chain and contract", () => {
  const a = hashRecord(domain, "Deal", deal);
  const b = hashRecord({ ...domain, chainId: 1 }, "Deal", deal);
  assert.notEqual(a, b);
  assert.equal(a, hashRecord(domain, "Deal", { ...deal }));
});

test("a malleable high-s copy of a valid signature is refused", async () => {
  const sig = await signRecord(jc, domain, "Deal", deal);
  const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const s = BigInt(`0x${sig.slice(66, 130)}`);
  const v = parseInt(sig.slice(130), 16);
  const flipped = `${sig.slice(0, 66)}${(n - s).toString(16).padStart(64, "0")}${(v === 27 ? 28 : 27).toString(16)}` as `0x${string}`;
  await assert.rejects(verifyRecord(domain, "Deal", deal, flipped, { signer: jc.address }), (e) => isLilyError(e, "BAD_SIGNATURE") && /high-s/.test(e.message));
});

test("a signature the contracts would refuse is refused off chain too: v of 0 or 1, zero r or s, a wrong length", async () => {
  const sig = await signRecord(jc, domain, "Deal", deal);
  const v = parseInt(sig.slice(130), 16);
  // viem recovers from yParity 0/1 as well as 27/28; OpenZeppelin's ECDSA (ecrecover) does not.
  const yParity = `${sig.slice(0, 130)}${(v - 27).toString(16).padStart(2, "0")}` as `0x${string}`;
  const zeroR = `0x${"00".repeat(32)}${sig.slice(66)}` as `0x${string}`;
  const zeroS = `${sig.slice(0, 66)}${"00".repeat(32)}${sig.slice(130)}` as `0x${string}`;
  const short = sig.slice(0, 128) as `0x${string}`;
  for (const [name, bad] of [
    ["v = 0/1", yParity],
    ["r = 0", zeroR],
    ["s = 0", zeroS],
    ["64 bytes", short],
  ] as const) {
    await assert.rejects(verifyRecord(domain, "Deal", deal, bad, { signer: jc.address }), (e) => isLilyError(e, "BAD_SIGNATURE"), name);
  }
});

test("every record's wire schema has exactly its EIP-712 fields, in signing order", () => {
  for (const [type, schema] of Object.entries(recordSchemas)) {
    assert.deepEqual(
      Object.keys(schema.shape),
      types[type as keyof typeof types].map((f) => f.name),
      type,
    );
  }
});

test("a deal progress report verifies only against its provider, and binds every field", async () => {
  const progress: DealProgressMessage = {
    dealId: `0x${"33".repeat(32)}`,
    provider: rp.address,
    status: "rejected",
    txHash: NO_TX_HASH,
    at: 1_900_000_000n,
    error: "busy",
  };
  const sig = await signRecord(rp, domain, "DealProgress", progress);
  await verifyRecord(domain, "DealProgress", progress, sig); // the signer is the `provider` field
  const forged = await signRecord(jc, domain, "DealProgress", progress);
  await assert.rejects(verifyRecord(domain, "DealProgress", progress, forged), (e) => isLilyError(e, "BAD_SIGNATURE") && e.field === "signature");
  const altered: Partial<DealProgressMessage>[] = [
    { dealId: `0x${"44".repeat(32)}` },
    { provider: jc.address },
    { status: "timed-out" },
    { txHash: `0x${"ab".repeat(32)}` },
    { at: 1_900_000_001n },
    { error: "" },
  ];
  for (const change of altered) {
    await assert.rejects(verifyRecord(domain, "DealProgress", { ...progress, ...change }, sig), (e) => isLilyError(e, "BAD_SIGNATURE"), Object.keys(change)[0]);
  }
});

test("a deal progress report parses from its wire form into the message it signs", async () => {
  const progress: DealProgressMessage = {
    dealId: `0x${"AB".repeat(32)}`,
    provider: rp.address,
    status: "opened",
    txHash: `0x${"CD".repeat(32)}`,
    at: 1_900_000_000n,
    error: "",
  };
  const signature = await signRecord(rp, domain, "DealProgress", progress);
  const parsed = SignedDealProgress.parse(toWire({ progress, signature }));
  await verifyRecord(domain, "DealProgress", parsed.progress, parsed.signature);
  assert.throws(() => SignedDealProgress.parse(toWire({ progress: { ...progress, status: "committed" }, signature })), "a provider cannot report committed");
  assert.throws(() => SignedDealProgress.parse({ progress: toWire(progress) }), "the signature is required");
});
