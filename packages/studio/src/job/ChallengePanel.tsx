// Challenging a job's result from its page (optimistic policy only): while the window is open, a
// reason (at most 32 bytes, recorded on chain) and a button; the gateway sends the challenge as
// the job's creator and a mediator re-runs the job. The outcome then shows here as the chain
// reports it: with the mediator, upheld (the provider was right; the mediation fee is lost) or
// slashed (the provider was wrong; its collateral pays for it). A refusal shows the gateway's reason.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { GatewayError } from "../gateway.ts";
import { challenge, type JobRecord } from "./jobApi.ts";
import { VerdictBadge } from "./outcomeWords.tsx";

const utf8Length = (s: string) => new TextEncoder().encode(s).length;

export function ChallengePanel({ job, token, onChallenged }: { job: JobRecord; token: string; onChallenged(): void }) {
  const v = job.verification;
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState<string | null>(null);
  const [refused, setRefused] = useState<string | null>(null);
  const secondsLeft = useSecondsLeft(v.window_closes_at, job.now);
  const tooLong = utf8Length(reason) > 32;
  const open = v.challengeable && secondsLeft !== null && secondsLeft > 0;

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (tooLong) return;
    setBusy(true);
    setRefused(null);
    try {
      const r = await challenge(token, job.id, reason.trim());
      setSent(r.tx);
      onChallenged();
    } catch (err) {
      setRefused(err instanceof GatewayError ? `${err.message} (${err.status})` : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="challenge-title" className="challenge" data-testid="challenge">
      <h2 id="challenge-title">Challenge the result</h2>
      {v.challenged || sent ? (
        <>
          <p>
            Challenged
            {sent && (
              <>
                {" "}
                in transaction <span className="mono">{sent}</span>
              </>
            )}
            . A mediator both parties accepted re-runs the job and rules on chain.
          </p>
          <p aria-live="polite">
            Outcome: <VerdictBadge verdict={v.verdict} />
            {v.verdict === "upheld" && " — the result was right; the mediation fee paid the mediator."}
            {v.verdict === "slashed" && " — the result was wrong; you were refunded and the provider's collateral paid for it."}
          </p>
        </>
      ) : open ? (
        <form onSubmit={submit} className="challenge-form">
          <p>
            If this result is wrong, challenge it before the window closes <span data-testid="window-left">({formatLeft(secondsLeft!)} left)</span>. A mediator
            re-runs the job: if the provider was wrong it is slashed and you are refunded; if it was right, the challenge costs the mediation fee.
          </p>
          <div className="field">
            <label htmlFor="challenge-reason">Reason (optional)</label>
            <input
              id="challenge-reason"
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              aria-describedby="challenge-reason-help"
              aria-invalid={tooLong}
              maxLength={64}
            />
            <p id="challenge-reason-help" className={tooLong ? "error" : "muted"}>
              At most 32 bytes, recorded on chain ({utf8Length(reason)}/32).
            </p>
          </div>
          <button type="submit" disabled={busy || tooLong}>
            {busy ? "Sending the challenge…" : "Challenge this result"}
          </button>
        </form>
      ) : (
        <p className="muted">
          {job.records.some((r) => r.kind === "result")
            ? "The challenge window has closed: the result stands."
            : "The result is not in yet; it can be challenged once it is committed on chain."}
        </p>
      )}
      {refused && (
        <p role="alert" className="error" data-testid="challenge-refused">
          Refused: {refused}
        </p>
      )}
    </section>
  );
}

/** Seconds until `closesAt` by the chain's clock as last read, counting down each second. */
function useSecondsLeft(closesAt: number | null, chainNow: number): number | null {
  const [, tick] = useState(0);
  // The chain's time as last read, and when: each new read restarts the count from it.
  const base = useRef({ now: chainNow, at: Date.now() });
  if (base.current.now !== chainNow) base.current = { now: chainNow, at: Date.now() };
  useEffect(() => {
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, []);
  if (closesAt === null) return null;
  return Math.max(0, closesAt - base.current.now - Math.floor((Date.now() - base.current.at) / 1000));
}

function formatLeft(s: number): string {
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}
