// A job's page: what it is and how it ended (status, cost, verification policy and outcome), every
// signed record of its life (the job offer, the provider's resource offer, the deal as matched, the
// result) with ids and signers, every transaction with its hash and gas, and, under the optimistic
// policy, a challenge of its result. Live while the job runs (its event stream) and while the chain
// can still move it (a challenge window, a mediator's ruling).
import { Fragment, useEffect, useRef } from "react";
import { Link, useParams } from "react-router";
import { useAuth } from "../auth.tsx";
import { short } from "../format.ts";
import { ChallengePanel } from "../job/ChallengePanel.tsx";
import { costWords, statusWords, VerdictBadge } from "../job/outcomeWords.tsx";
import { RecordCard } from "../job/RecordCard.tsx";
import { TransactionsTable } from "../job/TransactionsTable.tsx";
import { useJobRecord } from "../job/useJobRecord.ts";
import { SignInFirst } from "../SignInButtons.tsx";

export function Job() {
  const { id = "" } = useParams();
  const { credentials } = useAuth();
  const { record, error, live, refresh } = useJobRecord(credentials?.token, id);
  const heading = useRef<HTMLHeadingElement>(null);
  // A page opened from the History moves focus to its title, so a screen reader starts here.
  useEffect(() => heading.current?.focus(), []);
  if (!credentials) return <SignInFirst what="see this job" />;
  const title = record ? `${record.module} job ${short(record.id)}` : `Job ${short(id)}`;
  return (
    <section aria-labelledby="job-title" className="job-page">
      <p>
        <Link to="/history">← History</Link>
      </p>
      <h1 id="job-title" ref={heading} tabIndex={-1}>
        {title}
      </h1>
      {error && <p role="alert">Could not load this job: {error}</p>}
      {!record && !error && <p aria-live="polite">Loading the job…</p>}
      {record && (
        <>
          <p aria-live="polite" className="live" data-testid="live">
            {live ? `Live: ${live}` : ""}
          </p>
          <dl className="facts job-facts">
            <dt>Job offer</dt>
            <dd className="mono" data-testid="job-id">
              {record.id}
            </dd>
            <dt>Module</dt>
            <dd>{record.module}</dd>
            <dt>Status</dt>
            <dd data-testid="job-status">{record.error ? `${statusWords(record.status)}: ${record.error}` : statusWords(record.status)}</dd>
            <dt>Cost</dt>
            <dd data-testid="job-cost">{costWords(record.cost)}</dd>
            <dt>Verification</dt>
            <dd data-testid="job-verification">
              <span className="mono">{record.verification.policy}</span> <VerdictBadge verdict={record.verification.verdict} />
              {record.verification.checked && " (re-checked)"}
            </dd>
            <dt>Submitted</dt>
            <dd>{new Date(record.created_at * 1000).toLocaleString()}</dd>
            {record.deals.map((d) => (
              <Fragment key={d.id}>
                <dt>Deal</dt>
                <dd className="mono" title={`${d.state} on chain ${record.chain_id}, contract ${record.deals_contract}`}>
                  {d.id} <span className="muted">({statusWords(d.state)})</span>
                </dd>
              </Fragment>
            ))}
          </dl>
          {record.verification.policy.startsWith("optimistic") && <ChallengePanel job={record} token={credentials.token} onChallenged={refresh} />}
          <section aria-labelledby="records-title">
            <h2 id="records-title">Signed records</h2>
            <div className="records">
              {record.records.map((r) => (
                <RecordCard key={`${r.kind}-${r.id}-${r.deal ?? ""}`} record={r} />
              ))}
            </div>
          </section>
          <section aria-labelledby="txs-title">
            <h2 id="txs-title">Transactions</h2>
            <TransactionsTable txs={record.transactions} multipleDeals={record.deals.length > 1} />
          </section>
        </>
      )}
    </section>
  );
}
