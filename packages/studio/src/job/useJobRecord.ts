// One job's record, kept live: read once, read again on every progress event of the job's
// server-sent stream (GET /v1/jobs/:id/events) while it runs, then every few seconds while the
// chain can still move it (a challenge window, an audit draw, a mediator's ruling), until final.
import { useCallback, useEffect, useRef, useState } from "react";
import { gatewayUrl } from "../gateway.ts";
import { readSse } from "../sse.ts";
import { isFinal, jobRecord, type JobRecord } from "./jobApi.ts";

const POLL_MS = 3000;

export interface LiveJob {
  record: JobRecord | null;
  error: string | null;
  /** The last stage the job's event stream reported, while it is open. */
  live: string | null;
  /** Read the record again now (after a challenge, say). */
  refresh(): void;
}

export function useJobRecord(token: string | undefined, id: string): LiveJob {
  const [record, setRecord] = useState<JobRecord | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [live, setLive] = useState<string | null>(null);
  const reread = useRef<() => void>(() => {});

  useEffect(() => {
    if (!token) return;
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let reading = false;
    let again = false;
    let streaming = true;
    // One read at a time; a request while one is in flight reads once more when it ends.
    const read = async () => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      clearTimeout(timer);
      try {
        const r = await jobRecord(token, id, abort.signal);
        setRecord(r);
        setError(null);
        if (!streaming && !isFinal(r, r.stage)) timer = setTimeout(() => void read(), POLL_MS);
      } catch (e) {
        if (abort.signal.aborted) return;
        setError(e instanceof Error ? e.message : String(e));
      } finally {
        reading = false;
        if (again && !abort.signal.aborted) {
          again = false;
          void read();
        }
      }
    };
    reread.current = () => void read();
    void read();
    // The job's progress as it happens; each event says something changed on chain or at the provider.
    void (async () => {
      try {
        const res = await fetch(gatewayUrl(`v1/jobs/${encodeURIComponent(id)}/events`), {
          headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
          signal: abort.signal,
        });
        if (res.ok && res.body) {
          for await (const ev of readSse(res.body)) {
            const data = JSON.parse(ev.data) as { progress?: { stage?: string } };
            setLive(ev.event === "progress" ? (data.progress?.stage ?? null) : null);
            void read();
          }
        }
      } catch {
        // A closed or failed stream only ends the live updates; polling below takes over.
      } finally {
        streaming = false;
        if (!abort.signal.aborted) {
          setLive(null);
          void read();
        }
      }
    })();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [token, id]);

  const refresh = useCallback(() => reread.current(), []);
  return { record, error, live, refresh };
}
