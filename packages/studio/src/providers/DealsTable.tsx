// Deals as a table (the network view's recent deals, a provider's own): when, module, parties,
// price, state, gas, and the transactions that opened and ended each. A trust deal shares its
// transactions with the other deals of its batch, so it shows its batch and its share of their
// gas: their whole gas would count the same transaction once for every deal it carried.
import { Link } from "react-router";
import { lily, short } from "../format.ts";
import { type DealRow, when } from "./networkData.ts";
import { ScrollRegion } from "./ScrollRegion.tsx";

const STATES: Record<string, string> = {
  open: "running",
  committed: "result committed",
  challenged: "challenged",
  settled: "settled",
  timedOut: "timed out",
  slashed: "slashed",
};

export function DealsTable({ deals, caption, showProvider = true }: { deals: DealRow[]; caption: string; showProvider?: boolean }) {
  if (deals.length === 0) return <p>No deals yet.</p>;
  return (
    <ScrollRegion label={caption}>
      <table data-testid="deals-table">
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Opened</th>
            <th scope="col">Deal</th>
            <th scope="col">Module</th>
            {showProvider && <th scope="col">Provider</th>}
            <th scope="col">Price</th>
            <th scope="col">State</th>
            <th scope="col">Gas</th>
            <th scope="col">Transactions</th>
          </tr>
        </thead>
        <tbody>
          {deals.map((d) => (
            <tr key={d.id} data-testid="deal-row" data-deal={d.id}>
              <td>{when(d.openedAt)}</td>
              <td className="mono" title={d.id}>
                {short(d.id)}
                {d.trust && (
                  <span className="muted deal-batch" data-testid="deal-batch">
                    trust batch {d.trust.batchNo} · opened with {d.trust.batchSize} {d.trust.batchSize === 1 ? "deal" : "deals"}
                  </span>
                )}
              </td>
              <td className="mono" title={d.module ?? "unknown"}>
                {d.module ? short(d.module) : "unknown"}
              </td>
              {showProvider && (
                <td>
                  <Link to={`/providers/${d.provider}`} className="mono" title={d.provider}>
                    {short(d.provider)}
                  </Link>
                </td>
              )}
              <td>{lily(d.price)}</td>
              <td>{STATES[d.state] ?? d.state}</td>
              <td
                data-testid="deal-gas"
                title={d.trust ? `its share; its transactions used ${Number(d.gasUsed).toLocaleString()} gas for all the deals they carried` : undefined}
              >
                {Number(d.trust ? d.trust.gasShare : (d.gasUsed ?? 0)).toLocaleString()}
                {d.trust && <span className="muted"> (share)</span>}
              </td>
              <td className="mono">
                <span title={d.openTx}>open {short(d.openTx)}</span>
                {d.settledTx && <span title={d.settledTx}> · end {short(d.settledTx)}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}
