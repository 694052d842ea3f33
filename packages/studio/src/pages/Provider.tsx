// One provider's dashboard (providers/:address): online or not, the capacity its open deals use
// of what it offers, its jobs by outcome, what it earned over time (a chart, and the same numbers
// as a table) and what it lost to slashes, read again every few seconds.
import { lazy, Suspense } from "react";
import { Link, useParams } from "react-router";
import { lily, short } from "../format.ts";
import { DealsTable } from "../providers/DealsTable.tsx";
import { useProvider, when, type ProviderView, type Resources } from "../providers/networkData.ts";
import { ScrollRegion } from "../providers/ScrollRegion.tsx";

// The chart library comes with this page only, after its numbers are already shown.
const EarningsChart = lazy(() => import("../providers/EarningsChart.tsx"));

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

export function Provider() {
  const { address = "" } = useParams();
  if (!ADDRESS.test(address)) {
    return (
      <section>
        <h1>Provider</h1>
        <p role="alert">“{address}” is not an address (0x and 40 hexadecimal digits).</p>
        <Link to="/providers">All providers</Link>
      </section>
    );
  }
  return <Dashboard address={address} />;
}

function Dashboard({ address }: { address: string }) {
  const { value: p, error } = useProvider(address);
  return (
    <section aria-labelledby="provider-title" className="provider">
      <p>
        <Link to="/providers">← All providers</Link>
      </p>
      <h1 id="provider-title">
        Provider <span className="mono">{short(address)}</span>
      </h1>
      <p className="mono muted">{address}</p>
      {error && <p role="alert">Could not load this provider: {error}</p>}
      {!p && !error && <p>Loading…</p>}
      {p && <Details p={p} />}
    </section>
  );
}

function Details({ p }: { p: ProviderView }) {
  return (
    <>
      <dl className="stats" aria-label="Summary">
        <div>
          <dt>Status</dt>
          <dd data-testid="provider-online">{p.online ? "Online" : "Offline"}</dd>
        </div>
        <div>
          <dt>Earned</dt>
          <dd data-testid="provider-earned">{lily(p.earned)}</dd>
        </div>
        <div>
          <dt>Jobs</dt>
          <dd data-testid="provider-jobs">{p.jobs.total}</dd>
        </div>
        <div>
          <dt>Slashed</dt>
          <dd data-testid="provider-slashed">{lily(p.slashed)}</dd>
        </div>
      </dl>
      <p className="muted">
        {p.lastSeen ? `Last active on chain ${when(p.lastSeen)}. ` : "Never active on chain. "}
        As of block {p.block}.
      </p>

      <h2>Capacity in use</h2>
      <Capacity offered={p.capacity.offered} inUse={p.capacity.inUse} />
      <p className="muted">
        {p.capacity.activeDeals} deal{p.capacity.activeDeals === 1 ? "" : "s"} running; {p.offers.resource.length} resource offer
        {p.offers.resource.length === 1 ? "" : "s"} and {p.offers.model.length} model offer{p.offers.model.length === 1 ? "" : "s"} open.
      </p>

      <h2>Jobs by outcome</h2>
      <ul className="outcomes" data-testid="provider-outcomes">
        <li>Running: {p.jobs.open + p.jobs.committed}</li>
        <li>Challenged: {p.jobs.challenged}</li>
        <li>Settled: {p.jobs.settled}</li>
        <li>Timed out: {p.jobs.timedOut}</li>
        <li>Slashed: {p.jobs.slashed}</li>
        <li>
          Leases: {p.leases.total} ({p.leases.answers} answers paid)
        </li>
      </ul>

      <h2 id="earnings-title">Earnings over time</h2>
      {p.earnings.length === 0 ? (
        <p>Nothing earned yet.</p>
      ) : (
        <figure aria-labelledby="earnings-title" className="earnings">
          <Suspense fallback={<p>Loading the chart…</p>}>
            <EarningsChart points={p.earnings} />
          </Suspense>
          <figcaption>
            {lily(p.earned)} earned in {p.earnings.length} payment{p.earnings.length === 1 ? "" : "s"}.
          </figcaption>
          <details>
            <summary>The chart's numbers as a table</summary>
            <ScrollRegion label="Earnings table">
              <table data-testid="earnings-table">
                <caption className="sr-only">Each payment and the total earned after it, oldest first</caption>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">For</th>
                    <th scope="col">Paid</th>
                    <th scope="col">Total earned</th>
                  </tr>
                </thead>
                <tbody>
                  {p.earnings.map((e) => (
                    <tr key={`${e.id}-${e.tx}`}>
                      <td>{when(e.time)}</td>
                      <td className="mono" title={e.id}>
                        {e.kind} {short(e.id)}
                      </td>
                      <td>{lily(e.amount)}</td>
                      <td>{lily(e.earned)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollRegion>
          </details>
        </figure>
      )}

      <h2>Slashes</h2>
      {p.slashes.length === 0 ? (
        <p data-testid="provider-no-slashes">None.</p>
      ) : (
        <ScrollRegion label="Slashes">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Why</th>
                <th scope="col">Lost</th>
                <th scope="col">Deal or lease</th>
              </tr>
            </thead>
            <tbody>
              {p.slashes.map((s) => (
                <tr key={`${s.id}-${s.tx}`}>
                  <td>{when(s.time)}</td>
                  <td>{s.reason === "timedOut" ? "missed its deadline" : s.reason === "lease" ? "a wrong answer under a lease" : "proven wrong"}</td>
                  <td>{lily(s.amount)}</td>
                  <td className="mono" title={s.id}>
                    {short(s.id)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}

      <h2>Recent deals</h2>
      <DealsTable deals={p.deals} caption="This provider's deals, newest first" showProvider={false} />
    </>
  );
}

/** Each resource as "in use of offered", with a meter for the ones it offers. */
function Capacity({ offered, inUse }: { offered: Resources; inUse: Resources }) {
  const rows: [string, keyof Resources, string][] = [
    ["CPU", "cpu", "cores"],
    ["Memory", "memoryMb", "MB"],
    ["GPU", "gpu", ""],
    ["VRAM", "vramMb", "MB"],
  ];
  const shown = rows.filter(([, k]) => offered[k] > 0 || inUse[k] > 0);
  if (shown.length === 0) return <p>No resources offered now.</p>;
  return (
    <dl className="capacity" data-testid="provider-capacity">
      {shown.map(([label, k, unit]) => (
        <div key={k}>
          <dt>{label}</dt>
          <dd>
            <meter min={0} max={Math.max(offered[k], inUse[k], 1)} value={inUse[k]} aria-label={`${label} in use`} /> {inUse[k]} of {offered[k]} {unit}
          </dd>
        </div>
      ))}
    </dl>
  );
}
