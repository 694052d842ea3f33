// History: the signed-in user's jobs (GET /v1/history), newest first, each with its status, what it
// cost (the deal's price and what was paid), its verification policy and outcome (checked,
// challenged, upheld, slashed), and a link to its job page. Re-read every few seconds while any job
// is still moving, so a settling or mediated job changes here without a reload.
import { useEffect, useState } from "react";
import { Link } from "react-router";
import { useAuth } from "../auth.tsx";
import { short } from "../format.ts";
import { history, isFinal, type HistoryJob } from "../job/jobApi.ts";
import { costWords, statusWords, VerdictBadge } from "../job/outcomeWords.tsx";
import { ScrollRegion } from "../providers/ScrollRegion.tsx";
import { SignInFirst } from "../SignInButtons.tsx";

const REFRESH_MS = 4000;

export function History() {
  const { credentials } = useAuth();
  const [jobs, setJobs] = useState<HistoryJob[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const token = credentials?.token;
  useEffect(() => {
    if (!token) return;
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () =>
      history(token, abort.signal).then(
        (list) => {
          setJobs(list);
          setError(null);
          if (list.some((j) => !isFinal(j, j.stage))) timer = setTimeout(load, REFRESH_MS);
        },
        (e: unknown) => {
          if (!abort.signal.aborted) setError(e instanceof Error ? e.message : String(e));
        },
      );
    void load();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [token]);
  if (!credentials) return <SignInFirst what="see your jobs" />;
  return (
    <section aria-labelledby="history-title">
      <h1 id="history-title">History</h1>
      {error && <p role="alert">Could not load your jobs: {error}</p>}
      {!jobs && !error && <p aria-live="polite">Loading your jobs…</p>}
      {jobs && jobs.length === 0 && <p>No jobs yet.</p>}
      {jobs && jobs.length > 0 && (
        <ScrollRegion label="Your jobs">
          <table className="history">
            <caption className="sr-only">Your jobs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">When</th>
                <th scope="col">Status</th>
                <th scope="col">Cost</th>
                <th scope="col">Verification</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((j) => (
                <tr key={j.id} data-testid="job-row" data-job={j.id}>
                  <th scope="row">
                    <Link to={`/jobs/${j.id}`} aria-label={`${j.module}, job ${short(j.id)}`}>
                      {j.module}
                    </Link>
                    <span className="mono muted history-id" title={j.id}>
                      {short(j.id)}
                    </span>
                  </th>
                  <td>{new Date(j.created_at * 1000).toLocaleString()}</td>
                  <td data-testid="job-status">{j.error ? `${statusWords(j.status)}: ${j.error}` : statusWords(j.status)}</td>
                  <td data-testid="job-cost">{costWords(j.cost)}</td>
                  <td data-testid="job-verification">
                    <span className="mono">{j.verification.policy}</span> <VerdictBadge verdict={j.verification.verdict} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
    </section>
  );
}
