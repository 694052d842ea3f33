// `lily receipt verify <answer id | receipt URL | record CID>`: audit one answer the gateway gave.
// It fetches the answer's signed record (from the gateway, or from the store by CID), checks that
// the record is the one its CID names, that the provider's receipt signs exactly that request and
// that answer under that lease, and that the lease is on chain between that provider and payer.
import type { Command } from "commander";
import { AnswerRecord, LilyError, cidForRecord, isCid, parse, verifyAnswerRecord, formatLily } from "@lily/protocol";
import { createLilyClient, leaseRecord } from "@lily/chain";
import { StoreClient } from "@lily/store";
import { addNetworkFlags, resolveNetwork } from "../config/resolveNetwork.ts";
import { createOutput } from "../output.ts";
import { gatewayUrlOf } from "../config/gatewayUrl.ts";

export function registerReceipt(program: Command): void {
  const receipt = program.command("receipt").description("audit answers from the inference gateway by their signed receipts");
  addNetworkFlags(
    receipt
      .command("verify <answer>")
      .description("verify an answer's receipt: an answer id (chatcmpl-…), its x-lily-receipt-url, or its record CID")
      .option("--gateway-url <url>", "the gateway that gave the answer (default: from network.json)")
      .option("--json", "print JSON"),
  ).action(async (answer: string, o: { json?: boolean }, cmd: Command) => {
    const out = createOutput({ json: o.json });
    const net = resolveNetwork(cmd);
    let cid: string;
    let raw: unknown;
    if (isCid(answer)) {
      cid = answer;
      raw = await new StoreClient(net.storeUrl).getRecord(answer);
    } else {
      const url = /^https?:\/\//.test(answer) ? answer : `${gatewayUrlOf(cmd, net)}/v1/receipts/${encodeURIComponent(answer)}`;
      const res = await fetch(url).catch((e: unknown) => {
        throw new LilyError({ code: "UNREACHABLE", field: "answer", message: `answer: ${url} did not answer`, cause: e });
      });
      if (!res.ok)
        throw new LilyError({ code: res.status === 404 ? "NOT_FOUND" : "UNREACHABLE", field: "answer", message: `answer: ${url} answered ${res.status}` });
      const body = (await res.json()) as { cid: string; record: unknown };
      cid = body.cid;
      raw = body.record;
    }
    // REJECT: the record must be the very one its CID names
    if (cidForRecord(raw).cid !== cid)
      throw new LilyError({ code: "CID_MISMATCH", field: "answer", message: `the record served is not the one CID ${cid} names` });
    const record = parse(AnswerRecord, raw, "answer record");
    const { leaseId, provider } = await verifyAnswerRecord(record);
    // REJECT: the lease must be on chain, on this network
    if (record.chainId !== net.chainId || record.leases.toLowerCase() !== net.leases.toLowerCase()) {
      throw new LilyError({
        code: "BAD_SIGNATURE",
        field: "record.leases",
        message: `the record is for chain ${record.chainId} contract ${record.leases}, not this network's`,
      });
    }
    const chain = createLilyClient({ rpcUrl: net.rpcUrl, addresses: net });
    const onChain = await leaseRecord(chain, { leaseId });
    if (onChain.state === "none") throw new LilyError({ code: "NOT_FOUND", field: "record.lease", message: `lease ${leaseId} was never opened on chain` });
    const r = record.receipt.receipt;
    out.line(`receipt valid: provider ${provider} signed answer #${r.seq} under lease ${leaseId}`);
    out.line(`  request ${r.request}  response ${r.response}`);
    out.line(`  ${r.inputTokens} prompt + ${r.outputTokens} generated tokens; lease ${onChain.state} on chain, payer ${record.lease.payer}`);
    out.line(`  price ${formatLily(record.lease.inputPricePer1k)} in / ${formatLily(record.lease.outputPricePer1k)} out per 1k tokens; record ${cid}`);
    out.result({ valid: true, cid, lease: leaseId, provider, seq: r.seq, state: onChain.state });
  });
}
