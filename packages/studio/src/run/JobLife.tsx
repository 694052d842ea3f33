// A job's life as it happens, from the gateway's progress events (GET /v1/jobs/:id/events): offer
// posted → matched → deal opened → running → result committed → settled, each step with what
// proves it (the deal id, the provider and price, the transaction hash, the result's CID), and
// once the result is in, every on-chain event of the deal with its transaction.
import { lily, short } from "../format.ts";
import type { DealOnChain } from "./runApi.ts";

/** One progress event as the gateway sends it (amounts and hashes as strings). */
export type ProgressEvent = { stage: string } & Record<string, string | undefined>;

export interface Settlement {
  /** The deal's state when the result was delivered: settled, or committed under a policy that settles later. */
  state: string;
}

const STEPS = [
  ["offered", "Offer posted"],
  ["matched", "Matched"],
  ["opened", "Deal opened on chain"],
  ["running", "Running"],
  ["committed", "Result committed on chain"],
  ["settled", "Settled"],
] as const;
type Step = (typeof STEPS)[number][0];

const WAITING: Record<Step, string> = {
  offered: "Posting the job offer…",
  matched: "Waiting for a provider to match…",
  opened: "Waiting for the deal to open on chain…",
  running: "Waiting for the provider to start…",
  committed: "Running: waiting for the result…",
  settled: "Waiting for the deal to settle…",
};

const SETTLED_AS: Record<string, string> = {
  settled: "the provider was paid",
  committed: "the result is in; the policy settles it later (challenge window or audit)",
  challenged: "challenged: a mediator is re-running it",
  slashed: "the provider was proven wrong and you were refunded",
};

export function JobLife({ events, settlement, deals, active }: { events: ProgressEvent[]; settlement?: Settlement; deals?: DealOnChain[]; active: boolean }) {
  const by = (stage: string) => events.find((e) => e.stage === stage);
  const settledTx = deals?.flatMap((d) => d.events).find((e) => e.name === "DealSettled")?.tx;
  const details: Record<Step, React.ReactNode | undefined> = {
    offered: by("offered") && <Mono label="job offer" value={by("offered")!.jobOfferId} />,
    matched: by("matched") && (
      <>
        <Mono label="deal" value={by("matched")!.dealId} /> with provider <Mono value={by("matched")!.provider} /> at {lily(by("matched")!.price ?? "0")}
        {by("signed") && ", signed"}
      </>
    ),
    opened: by("opened") && <Tx hash={by("opened")!.txHash} />,
    running: by("running") && "the provider is running the module",
    committed: by("committed") && (
      <>
        <Mono label="result" value={by("committed")!.resultCid} /> <Tx hash={by("committed")!.txHash} />
      </>
    ),
    settled: settlement && (
      <>
        {settlement.state}: {SETTLED_AS[settlement.state] ?? ""} {settledTx && <Tx hash={settledTx} />}
      </>
    ),
  };
  const reached = (s: Step) => (s === "settled" ? settlement !== undefined : by(s) !== undefined || (s === "running" && by("committed") !== undefined));
  const next = STEPS.find(([s]) => !reached(s));
  const trouble = events.filter((e) => e.stage === "lapsed" || e.stage === "timed-out" || e.stage === "cancelled");
  return (
    <>
      <ol data-testid="stages" className="job-life">
        {STEPS.filter(([s]) => reached(s)).map(([s, label]) => (
          <li key={s} data-stage={s}>
            <strong>{label}</strong> {details[s] && <span className="step-detail">{details[s]}</span>}
          </li>
        ))}
      </ol>
      {active && next && (
        <p className="muted" data-testid="next-step">
          {WAITING[next[0]]}
        </p>
      )}
      {trouble.map((e, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: events only grow, in order
        <p key={i} className="error">
          {e.stage === "lapsed" && `Deal ${short(e.dealId ?? "")} was not opened in time; nothing was locked, waiting for a new match.`}
          {e.stage === "timed-out" && `Deal ${short(e.dealId ?? "")} passed its deadline without a result; its payment was reclaimed.`}
          {e.stage === "cancelled" && `The job offer was withdrawn: ${e.reason}`}
        </p>
      ))}
      {deals?.some((d) => d.events.length > 0) && (
        <details className="txs" open>
          <summary>Transactions on chain</summary>
          {/* A wide table scrolls sideways on a phone: the region takes keyboard focus to scroll it. */}
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard */}
          <section className="table-wrap" tabIndex={0} aria-label="Transactions on chain">
            <table>
              <caption className="sr-only">Every on-chain event of the job's deals, with its transaction</caption>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Deal</th>
                  <th scope="col">Block</th>
                  <th scope="col">Transaction</th>
                </tr>
              </thead>
              <tbody>
                {deals.flatMap((d) =>
                  d.events.map((e) => (
                    <tr key={`${d.id}-${e.tx}-${e.name}`} data-testid="tx-row">
                      <td>{e.name}</td>
                      <td className="mono" title={d.id}>
                        {short(d.id)}
                      </td>
                      <td>{e.block}</td>
                      <td className="mono">{e.tx}</td>
                    </tr>
                  )),
                )}
              </tbody>
            </table>
          </section>
        </details>
      )}
    </>
  );
}

function Mono({ label, value }: { label?: string; value?: string }) {
  if (!value) return null;
  return (
    <>
      {label && `${label} `}
      <span className="mono" title={value}>
        {short(value)}
      </span>
    </>
  );
}

function Tx({ hash }: { hash?: string }) {
  if (!hash) return null;
  return (
    <>
      tx{" "}
      <span className="mono" data-testid="tx">
        {hash}
      </span>
    </>
  );
}
