// Every on-chain event of a job's deals, oldest first: what happened (opened, result committed,
// challenged, ruled, settled, slashed…), in which transaction and block, and the gas the
// transaction used. A transaction that emitted several events (a commit that also settles) shows
// once per event, with its gas on each.
import { short } from "../format.ts";
import { ScrollRegion } from "../providers/ScrollRegion.tsx";
import type { Transaction } from "./jobApi.ts";

const NAMES: Record<string, string> = {
  DealOpened: "Deal opened",
  ResultCommitted: "Result posted",
  DealChallenged: "Challenged",
  AuditDrawn: "Audit drawn",
  MediationRequested: "Mediation requested",
  MediatorDrawLocked: "Mediator draw locked",
  Ruled: "Mediator ruled",
  MediationFeePaid: "Mediation fee paid",
  RoyaltyPaid: "Royalty paid",
  DealSettled: "Settled",
  DealSlashed: "Provider slashed",
  DealTimedOut: "Timed out",
  MediationTimedOut: "Mediation timed out",
};

/** The one argument worth a glance per event; the rest are under the details. */
function gist(t: Transaction): string {
  const a = t.args;
  if (t.name === "Ruled") return a.providerCorrect ? "the provider was right" : "the provider was wrong";
  if (t.name === "AuditDrawn") return a.audited ? "audited" : "not audited";
  return "";
}

export function TransactionsTable({ txs, multipleDeals }: { txs: Transaction[]; multipleDeals: boolean }) {
  if (txs.length === 0) return <p className="muted">No transaction yet: nothing is locked until a deal opens.</p>;
  return (
    <ScrollRegion label="Transactions">
      <table className="txs-table">
        <caption className="sr-only">Transactions of this job, oldest first</caption>
        <thead>
          <tr>
            <th scope="col">Event</th>
            {multipleDeals && <th scope="col">Deal</th>}
            <th scope="col">Transaction</th>
            <th scope="col">Block</th>
            <th scope="col">Gas used</th>
          </tr>
        </thead>
        <tbody>
          {txs.map((t) => (
            <tr key={`${t.tx}-${t.name}-${t.deal}`} data-testid="tx-row" data-event={t.name}>
              <th scope="row">
                {NAMES[t.name] ?? t.name}
                {gist(t) && <span className="muted">: {gist(t)}</span>}
              </th>
              {multipleDeals && (
                <td className="mono" title={t.deal}>
                  {short(t.deal)}
                </td>
              )}
              <td className="mono" title={t.tx} data-testid="tx-hash">
                {t.tx}
              </td>
              <td>{t.block}</td>
              <td data-testid="tx-gas">{Number(t.gas_used).toLocaleString("en")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}
