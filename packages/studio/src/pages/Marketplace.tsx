// The marketplace: every module and model in the registry as a card (version, kind, creator,
// royalty, live price range, providers), filtered as the user types.
import { useState } from "react";
import { Link } from "react-router";
import { priceRange, short } from "../format.ts";
import type { CatalogEntry } from "../gateway.ts";
import { useCatalog } from "../useCatalog.ts";

export function Marketplace() {
  const { entries, error } = useCatalog();
  const [query, setQuery] = useState("");
  const q = query.trim().toLowerCase();
  const shown = (entries ?? []).filter((e) => !q || `${e.name} ${e.description} ${e.kind}`.toLowerCase().includes(q));
  return (
    <section aria-labelledby="market-title">
      <h1 id="market-title">Marketplace</h1>
      <label className="search">
        Search modules and models
        <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="cowsay, tiny, ocr…" />
      </label>
      {error && <p role="alert">Could not load the catalog: {error}</p>}
      {!entries && !error && <p>Loading the catalog…</p>}
      {entries && (
        <p className="muted" aria-live="polite">
          {shown.length} of {entries.length} shown
        </p>
      )}
      <ul className="cards">
        {shown.map((e) => (
          <li key={`${e.kind}:${e.name}@${e.version}`}>
            <Card entry={e} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function Card({ entry: e }: { entry: CatalogEntry }) {
  const unit = e.kind === "model" ? " per 1k output tokens" : " per job";
  return (
    <article className="card" aria-labelledby={`card-${e.kind}-${e.name}`} data-testid={`card-${e.name}`}>
      <h2 id={`card-${e.kind}-${e.name}`}>
        {e.kind === "module" ? (
          <Link to={`/modules/${encodeURIComponent(e.name)}`}>{e.name}</Link>
        ) : (
          <Link to={`/chat?model=${encodeURIComponent(e.name)}`}>{e.name}</Link>
        )}{" "}
        <span className="version">{e.version}</span>
      </h2>
      <p className={`kind kind-${e.kind}`}>{e.kind === "module" ? `module${e.executor ? ` (${e.executor})` : ""}` : "model"}</p>
      <p>{e.description}</p>
      <dl>
        <dt>Creator</dt>
        <dd title={e.creator}>{short(e.creator)}</dd>
        <dt>Royalty</dt>
        <dd>{(e.royaltyBps / 100).toFixed(2)}%</dd>
        <dt>Licence</dt>
        <dd>{e.license}</dd>
        <dt>Price</dt>
        <dd>
          {priceRange(e.prices)}
          {e.prices.min !== undefined ? unit : ""}
        </dd>
        <dt>Providers</dt>
        <dd>{e.prices.providers}</dd>
      </dl>
      <p className="card-more">
        {/* The module page (versions, inputs, recent runs); described by the card's heading for screen readers. */}
        <Link to={`/modules/${encodeURIComponent(e.name)}/about`} aria-describedby={`card-${e.kind}-${e.name}`}>
          Details
        </Link>
      </p>
    </article>
  );
}
