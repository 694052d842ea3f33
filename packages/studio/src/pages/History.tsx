// History: the signed-in user's jobs (GET /v1/jobs), newest first, with stage, deal and result.
import { useEffect, useState } from "react";
import { useAuth } from "../auth.tsx";
import { short } from "../format.ts";
import { getJson, type JobView } from "../gateway.ts";
import { SignInFirst } from "../SignInButtons.tsx";

export function History() {
  const { credentials } = useAuth();
  const [jobs, setJobs] = useState<JobView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!credentials) return;
    getJson<{ data: JobView[] }>("v1/jobs", { auth: credentials.token }).then(
      (r) => setJobs(r.data),
      (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
    );
  }, [credentials]);
  if (!credentials) return <SignInFirst what="see your jobs" />;
  return (
    <section aria-labelledby="history-title">
      <h1 id="history-title">History</h1>
      {error && <p role="alert">Could not load your jobs: {error}</p>}
      {jobs && jobs.length === 0 && <p>No jobs yet.</p>}
      {jobs && jobs.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">Your jobs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Module</th>
                <th scope="col">Stage</th>
                <th scope="col">Job</th>
                <th scope="col">Deal</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((j) => (
                <tr key={j.id} data-testid="job-row">
                  <td>{new Date(j.created_at * 1000).toLocaleString()}</td>
                  <td>{j.module}</td>
                  <td>{j.error ? `${j.stage}: ${j.error}` : j.stage}</td>
                  <td title={j.id}>{short(j.id)}</td>
                  <td title={j.deal ?? ""}>{j.deal ? short(j.deal) : "—"}</td>
                  <td title={j.result ?? ""}>{j.result ? short(j.result) : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
