// One signed record of a job's life (the job offer, the provider's resource offer, the deal as
// matched, the result): its id (an EIP-712 hash or a CID), each signer with whether the gateway
// found the signature to be theirs, and the record's fields on request.
import type { SignedRecord } from "./jobApi.ts";

const ID_KIND = { eip712: "EIP-712 hash", cid: "CID" } as const;

export function RecordCard({ record }: { record: SignedRecord }) {
  const titleId = `record-${record.kind}-${record.id.slice(-10)}`;
  return (
    <article className="record" aria-labelledby={titleId} data-testid={`record-${record.kind}`}>
      <h3 id={titleId}>{record.label}</h3>
      <dl className="facts">
        <dt>{ID_KIND[record.id_kind]}</dt>
        <dd className="mono" data-testid="record-id">
          {record.id}
        </dd>
        {record.on_chain !== undefined && record.on_chain !== null && (
          <>
            <dt>Committed on chain</dt>
            <dd className="mono">
              {record.on_chain} {record.matches_chain === true && <span className="ok">(the signed result matches)</span>}
              {record.matches_chain === false && <span className="error">(differs from the signed result)</span>}
            </dd>
          </>
        )}
      </dl>
      {record.signers.length > 0 ? (
        <ul className="signers" aria-label={`Signers of the ${record.label.toLowerCase()}`}>
          {record.signers.map((s) => (
            <li key={s.role} data-testid="signer" data-verified={s.verified}>
              <span className="signer-role">{s.role}</span> <span className="mono">{s.address}</span>{" "}
              {s.verified ? <span className="ok">✓ signature verified</span> : <span className="error">✗ {s.problem ?? "not verified"}</span>}
              {s.signature && (
                <details>
                  <summary>Signature</summary>
                  <p className="mono wrap">{s.signature}</p>
                </details>
              )}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No signature held for this record.</p>
      )}
      {record.body && (
        <details>
          <summary>Fields</summary>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable block must be reachable by keyboard to scroll it (WCAG 2.1.1) */}
          <pre className="record-body" tabIndex={0}>
            {JSON.stringify(record.body, null, 2)}
          </pre>
        </details>
      )}
    </article>
  );
}
