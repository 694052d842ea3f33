// The quote shown before paying: for the module, the most to pay and the verification policy as
// they stand in the form, what the job would cost (the likely provider's price plus what the
// policy adds), what stays locked while it runs, and how likely a cheating provider is caught,
// for one job and over ten. Asked again (POST /v1/quote) a moment after the form changes.
import { useEffect, useState } from "react";
import { lily, short, toBaseUnits } from "../format.ts";
import { type JobQuote, quoteJob } from "./runApi.ts";

const pct = (x: number) => `${(x * 100).toFixed(x > 0 && x < 0.001 ? 4 : 1)}%`;

type State = { kind: "idle" } | { kind: "loading" } | { kind: "ready"; quote: JobQuote } | { kind: "failed"; message: string };

export function QuotePanel({ token, module, maxPrice, policy }: { token: string; module: string; maxPrice: string; policy: string }) {
  const [state, setState] = useState<State>({ kind: "idle" });

  useEffect(() => {
    let max: string;
    try {
      max = toBaseUnits(maxPrice);
    } catch {
      setState({ kind: "idle" });
      return;
    }
    const abort = new AbortController();
    setState({ kind: "loading" });
    // A moment's pause, so typing a price asks once, not per keystroke.
    const t = setTimeout(() => {
      quoteJob(token, { module, max_price: max, policy, jobs: 10 }, abort.signal).then(
        (quote) => setState({ kind: "ready", quote }),
        (e: unknown) => {
          if (!abort.signal.aborted) setState({ kind: "failed", message: e instanceof Error ? e.message : String(e) });
        },
      );
    }, 250);
    return () => {
      clearTimeout(t);
      abort.abort();
    };
  }, [token, module, maxPrice, policy]);

  return (
    <section className="quote" aria-labelledby="quote-title" aria-live="polite" aria-busy={state.kind === "loading"} data-testid="quote">
      <h2 id="quote-title">Quote</h2>
      {state.kind === "idle" && <p className="muted">Give a max price to see what the job would cost.</p>}
      {state.kind === "loading" && <p className="muted">Asking the network…</p>}
      {state.kind === "failed" && <p className="error">{state.message}</p>}
      {state.kind === "ready" && <QuoteFacts q={state.quote} />}
    </section>
  );
}

function QuoteFacts({ q }: { q: JobQuote }) {
  const cost = BigInt(q.price) + BigInt(q.extra_cost);
  return (
    <>
      <p>
        <strong data-testid="quote-cost">{lily(cost)}</strong> expected for this job under <strong>{q.policy}</strong>: {q.describe}.
      </p>
      <dl className="facts">
        <dt>Provider's price</dt>
        <dd>
          {lily(q.price)}{" "}
          <span className="muted">
            (likely provider {short(q.provider)}, collateral {lily(q.collateral)})
          </span>
        </dd>
        <dt>Added by the policy</dt>
        <dd>{lily(q.extra_cost)} expected</dd>
        <dt>Locked while it runs</dt>
        <dd>{lily(q.locked_extra)} more, returned unless spent</dd>
        <dt>Catching a cheat</dt>
        <dd data-testid="quote-catch">
          {pct(q.per_job_catch)} for one job; {pct(q.catch_probability)} within {q.jobs} jobs
        </dd>
      </dl>
      {q.unsafe && (
        <p className="error" role="alert">
          The contracts would refuse these terms: {q.unsafe}
        </p>
      )}
      {q.notes.length > 0 && (
        <ul className="muted notes">
          {q.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
    </>
  );
}
