// Chat with a model on the network (POST /v1/chat/completions, stream: true, with the API key made
// at sign-in): tokens shown as they arrive, and under each answer its receipt (the `lily` field of
// the last chunk: the lease, the provider, the answer record's CID and the receipt's URL).
import { useRef, useState } from "react";
import { useSearchParams } from "react-router";
import { useAuth } from "../auth.tsx";
import { lily, short } from "../format.ts";
import { call } from "../gateway.ts";
import { SignInFirst } from "../SignInButtons.tsx";
import { readSse } from "../sse.ts";
import { useCatalog } from "../useCatalog.ts";

interface Receipt {
  lease: string;
  provider: string;
  record: string;
  receipt_url: string;
  cost?: string;
}
interface Message {
  role: "user" | "assistant";
  content: string;
  receipt?: Receipt;
  error?: string;
}

export function Chat() {
  const { credentials } = useAuth();
  const { entries } = useCatalog();
  const [params, setParams] = useSearchParams();
  const models = (entries ?? []).filter((e) => e.kind === "model");
  const model = params.get("model") ?? models[0]?.name ?? "";
  const [messages, setMessages] = useState<Message[]>([]);
  const [draft, setDraft] = useState("");
  const [streaming, setStreaming] = useState(false);
  const abort = useRef<AbortController | null>(null);

  if (!credentials?.apiKey) return <SignInFirst what="chat" />;
  const apiKey = credentials.apiKey;

  const update = (f: (m: Message) => Message) => setMessages((ms) => [...ms.slice(0, -1), f(ms[ms.length - 1]!)]);

  async function send(e: React.FormEvent) {
    e.preventDefault();
    const text = draft.trim();
    if (!text || !model) return;
    const history = [...messages.filter((m) => !m.error).map(({ role, content }) => ({ role, content })), { role: "user" as const, content: text }];
    setMessages((ms) => [...ms, { role: "user", content: text }, { role: "assistant", content: "" }]);
    setDraft("");
    setStreaming(true);
    abort.current = new AbortController();
    try {
      const res = await call("v1/chat/completions", { auth: apiKey, body: { model, messages: history, stream: true }, signal: abort.current.signal });
      for await (const ev of readSse(res.body!)) {
        if (ev.data === "[DONE]") break;
        const chunk = JSON.parse(ev.data) as { choices?: { delta?: { content?: string } }[]; lily?: Receipt; error?: { message: string } };
        if (chunk.error) update((m) => ({ ...m, error: chunk.error!.message }));
        const piece = chunk.choices?.[0]?.delta?.content;
        if (piece) update((m) => ({ ...m, content: m.content + piece }));
        if (chunk.lily) update((m) => ({ ...m, receipt: chunk.lily }));
      }
    } catch (err) {
      if (!(err instanceof DOMException && err.name === "AbortError")) update((m) => ({ ...m, error: err instanceof Error ? err.message : String(err) }));
    } finally {
      setStreaming(false);
    }
  }

  return (
    <section aria-labelledby="chat-title" className="chat">
      <h1 id="chat-title">Chat</h1>
      <label>
        Model
        <select value={model} onChange={(e) => setParams({ model: e.target.value })}>
          {models.length === 0 && <option value="">(no models on offer)</option>}
          {models.map((m) => (
            <option key={m.name} value={m.name}>
              {m.name} {m.version} · {m.prices.providers} provider{m.prices.providers === 1 ? "" : "s"}
            </option>
          ))}
        </select>
      </label>
      <ol className="messages" aria-live="polite" aria-busy={streaming}>
        {messages.map((m, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: messages only grow, in order
          <li key={i} className={`message message-${m.role}`} data-testid={`message-${m.role}`}>
            <span className="sr-only">{m.role === "user" ? "You:" : "Model:"}</span>
            <p className="text">{m.content || (m.role === "assistant" && streaming && i === messages.length - 1 ? "…" : "")}</p>
            {m.error && (
              <p role="alert" className="error">
                {m.error}
              </p>
            )}
            {m.receipt && <ReceiptView receipt={m.receipt} />}
          </li>
        ))}
      </ol>
      <form onSubmit={send} className="composer">
        <label htmlFor="chat-input" className="sr-only">
          Your message
        </label>
        <textarea
          id="chat-input"
          rows={2}
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey) send(e);
          }}
          placeholder="Say something… (Enter sends, Shift+Enter for a new line)"
        />
        {streaming ? (
          <button type="button" onClick={() => abort.current?.abort()}>
            Stop
          </button>
        ) : (
          <button type="submit" disabled={!model || !draft.trim()}>
            Send
          </button>
        )}
      </form>
    </section>
  );
}

function ReceiptView({ receipt }: { receipt: Receipt }) {
  return (
    <details className="receipt" data-testid="receipt" open>
      <summary>Receipt</summary>
      <dl>
        <dt>Lease</dt>
        <dd className="mono" title={receipt.lease}>
          {short(receipt.lease)}
        </dd>
        <dt>Provider</dt>
        <dd className="mono" title={receipt.provider}>
          {short(receipt.provider)}
        </dd>
        <dt>Record</dt>
        <dd className="mono" data-testid="receipt-record">
          {receipt.record}
        </dd>
        {receipt.cost !== undefined && (
          <>
            <dt>Cost</dt>
            <dd>{lily(receipt.cost)}</dd>
          </>
        )}
      </dl>
      <a href={receipt.receipt_url} target="_blank" rel="noreferrer">
        Open the signed receipt
      </a>
    </details>
  );
}
