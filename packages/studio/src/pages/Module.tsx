// A module's page: what it is (name, description, versions, creator, licence, royalty), what it
// costs now (the live price range and how many providers allow it), the inputs its schema asks
// for, and its recent runs on the network; with the way to run it (the run form, modules/:name).
import { Link, useParams } from "react-router";
import { lily, priceRange, short } from "../format.ts";
import type { CatalogEntry } from "../gateway.ts";
import { type DealRow, useModuleDetail, useRecentRuns } from "../module/moduleData.ts";

export function Module() {
  const { name = "" } = useParams();
  const detail = useModuleDetail(name);
  if (detail.state === "loading") return <p>Loading {name}…</p>;
  if (detail.state === "missing") return <p role="alert">No module named {name} is published on this network.</p>;
  if (detail.state === "error")
    return (
      <p role="alert">
        Could not load {name}: {detail.message}
      </p>
    );
  const { entry: e, versions } = detail.value;
  return (
    <article aria-labelledby="module-title" className="module-page" data-testid="module-page">
      <h1 id="module-title">
        {e.name} <span className="version">{e.version}</span>
      </h1>
      <p>{e.description}</p>
      {e.kind === "module" ? (
        <Link className="run-link" to={`/modules/${encodeURIComponent(e.name)}`}>
          Run {e.name}
        </Link>
      ) : (
        <Link className="run-link" to={`/chat?model=${encodeURIComponent(e.name)}`}>
          Chat with {e.name}
        </Link>
      )}
      <h2>About</h2>
      <dl className="module-facts">
        <dt>Kind</dt>
        <dd>{e.kind === "module" ? `module${e.executor ? ` (${e.executor})` : ""}` : "model"}</dd>
        <dt>Creator</dt>
        <dd className="mono" data-testid="module-creator">
          {e.creator}
        </dd>
        <dt>Licence</dt>
        <dd>{e.license}</dd>
        <dt>Royalty</dt>
        <dd>{(e.royaltyBps / 100).toFixed(2)}% of each job's price</dd>
        <dt>Price now</dt>
        <dd data-testid="module-price">
          {priceRange(e.prices)}
          {e.prices.min !== undefined ? (e.kind === "model" ? " per 1k output tokens" : " per job") : ""}
        </dd>
        <dt>Providers allowing it</dt>
        <dd data-testid="module-providers">{e.prices.providers}</dd>
        <dt>Manifest</dt>
        <dd className="mono">{e.cid}</dd>
      </dl>
      {e.kind === "module" && <Inputs entry={e} />}
      <h2>Versions</h2>
      <div className="table-wrap">
        <table data-testid="module-versions">
          <caption className="sr-only">Published versions of {e.name}, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Published</th>
              <th scope="col">Manifest</th>
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.version}>
                <td>{v.version}</td>
                <td>{new Date(v.publishedAt * 1000).toLocaleString()}</td>
                <td className="mono" title={v.manifestCid}>
                  {short(v.manifestCid)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <RecentRuns manifestCid={e.cid} />
    </article>
  );
}

function Inputs({ entry: e }: { entry: CatalogEntry }) {
  const inputs = Object.entries(e.inputs ?? {});
  return (
    <>
      <h2>Inputs</h2>
      {inputs.length === 0 ? (
        <p className="muted">It takes no inputs.</p>
      ) : (
        <div className="table-wrap">
          <table data-testid="module-inputs">
            <caption className="sr-only">The inputs {e.name} takes</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Required</th>
                <th scope="col">Default</th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>
              {inputs.map(([name, spec]) => (
                <tr key={name}>
                  <td>
                    <code>{name}</code>
                  </td>
                  <td>{spec.enum ? `one of ${spec.enum.join(", ")}` : spec.type}</td>
                  <td>{e.required?.includes(name) ? "yes" : "no"}</td>
                  <td>{spec.default === undefined ? "—" : String(spec.default)}</td>
                  <td>{spec.description ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function RecentRuns({ manifestCid }: { manifestCid: string }) {
  const runs = useRecentRuns(manifestCid);
  return (
    <section aria-labelledby="runs-title" data-testid="module-runs">
      <h2 id="runs-title">Recent runs</h2>
      {runs.state === "loading" && <p>Loading recent runs…</p>}
      {runs.state === "missing" && <p className="muted">This gateway does not list the network's deals, so recent runs cannot be shown.</p>}
      {runs.state === "error" && <p role="alert">Could not load recent runs: {runs.message}</p>}
      {runs.state === "ok" && runs.value.deals.length === 0 && <p className="muted">No runs yet.</p>}
      {runs.state === "ok" && runs.value.deals.length > 0 && <RunsTable deals={runs.value.deals} />}
    </section>
  );
}

function RunsTable({ deals }: { deals: DealRow[] }) {
  return (
    <div className="table-wrap">
      <table>
        <caption className="sr-only">The module's latest deals</caption>
        <thead>
          <tr>
            <th scope="col">Deal</th>
            <th scope="col">Opened</th>
            <th scope="col">State</th>
            <th scope="col">Price</th>
            <th scope="col">Provider</th>
            <th scope="col">Gas</th>
          </tr>
        </thead>
        <tbody>
          {deals.map((d) => (
            <tr key={d.id} data-testid="run-row">
              <td className="mono" title={d.id}>
                {short(d.id)}
              </td>
              <td>{new Date(d.openedAt * 1000).toLocaleString()}</td>
              <td>{d.state}</td>
              <td>{lily(d.price)}</td>
              <td className="mono" title={d.provider}>
                {short(d.provider)}
              </td>
              <td>{d.gasUsed === undefined ? "—" : String(d.gasUsed)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
