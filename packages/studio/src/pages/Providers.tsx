// The network view (providers): who provides compute now and how busy they are, the open resource
// and model offers, the newest deals, and the gas the network's transactions have used, read again
// every few seconds.
import { Link } from "react-router";
import { lily, short } from "../format.ts";
import { DealsTable } from "../providers/DealsTable.tsx";
import { useNetwork, type NetworkView } from "../providers/networkData.ts";
import { ScrollRegion } from "../providers/ScrollRegion.tsx";

export function Providers() {
  const { value: net, error } = useNetwork();
  return (
    <section aria-labelledby="providers-title" className="network">
      <h1 id="providers-title">Providers</h1>
      {error && <p role="alert">Could not load the network: {error}</p>}
      {!net && !error && <p>Loading…</p>}
      {net && <Network net={net} />}
    </section>
  );
}

function Network({ net }: { net: NetworkView }) {
  const online = net.providers.filter((p) => p.online).length;
  return (
    <>
      <dl className="stats" aria-label="The network now">
        <div>
          <dt>Providers online</dt>
          <dd data-testid="network-online">
            {online} of {net.totals.providers}
          </dd>
        </div>
        <div>
          <dt>Open offers</dt>
          <dd>{net.totals.resourceOffers + net.totals.modelOffers}</dd>
        </div>
        <div>
          <dt>Deals</dt>
          <dd data-testid="network-deals">{net.totals.deals}</dd>
        </div>
        <div>
          <dt>Gas spent</dt>
          <dd data-testid="network-gas">
            {Number(net.gas.gasUsed).toLocaleString()} in {net.gas.transactions} transactions
          </dd>
        </div>
      </dl>
      <p className="muted">As of block {net.block}.</p>

      <h2>Providers</h2>
      {net.providers.length === 0 ? (
        <p>No provider has offered anything yet.</p>
      ) : (
        <ScrollRegion label="Providers">
          <table data-testid="providers-table">
            <caption className="sr-only">Providers, online first, then the busiest</caption>
            <thead>
              <tr>
                <th scope="col">Provider</th>
                <th scope="col">Status</th>
                <th scope="col">Offers</th>
                <th scope="col">Deals (running)</th>
                <th scope="col">Leases</th>
                <th scope="col">Earned</th>
              </tr>
            </thead>
            <tbody>
              {net.providers.map((p) => (
                <tr key={p.address} data-testid="provider-row" data-address={p.address}>
                  <td>
                    <Link to={`/providers/${p.address}`} className="mono" title={p.address}>
                      {short(p.address)}
                    </Link>
                  </td>
                  <td>{p.online ? "online" : "offline"}</td>
                  <td>{p.offers}</td>
                  <td>
                    {p.deals} ({p.activeDeals})
                  </td>
                  <td>{p.leases}</td>
                  <td>{lily(p.earned)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}

      <h2>Open offers</h2>
      {net.offers.resource.length + net.offers.model.length === 0 ? (
        <p>No open offers.</p>
      ) : (
        <ScrollRegion label="Open offers">
          <table data-testid="offers-table">
            <caption className="sr-only">Open resource and model offers</caption>
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Provider</th>
                <th scope="col">Offers</th>
                <th scope="col">Price</th>
                <th scope="col">Until</th>
              </tr>
            </thead>
            <tbody>
              {net.offers.resource.map((o) => (
                <tr key={o.id}>
                  <td>compute</td>
                  <td className="mono" title={o.provider}>
                    {short(o.provider)}
                  </td>
                  <td>
                    {o.cpu} CPU, {o.memoryMb} MB{o.gpu > 0 ? `, ${o.gpu} GPU` : ""}; {o.modules.length} module{o.modules.length === 1 ? "" : "s"}
                  </td>
                  <td>{lily(o.price)} a job</td>
                  <td>{new Date(o.expiresAt * 1000).toLocaleTimeString()}</td>
                </tr>
              ))}
              {net.offers.model.map((o) => (
                <tr key={o.id}>
                  <td>model</td>
                  <td className="mono" title={o.provider}>
                    {short(o.provider)}
                  </td>
                  <td className="mono" title={o.model}>
                    {short(o.model)}
                  </td>
                  <td>{lily(o.outputPricePer1k)} per 1,000 tokens out</td>
                  <td>{new Date(o.expiresAt * 1000).toLocaleTimeString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}

      <h2>Recent deals</h2>
      <DealsTable deals={net.deals} caption="The network's newest deals" />
    </>
  );
}
