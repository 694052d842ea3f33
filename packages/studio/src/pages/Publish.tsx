// Publish a module from the browser: pick its built manifest and artifact, see what will be
// published (name@version, both CIDs, whether the artifact matches), then publish: the files go to
// the store through the gateway and name@version is registered on chain by the signed-in account,
// with each step, the transaction hash and any refusal (CID mismatch, version exists, name taken)
// shown as it happens.
import { useEffect, useState } from "react";
import { Link } from "react-router";
import { useAuth } from "../auth.tsx";
import { short } from "../format.ts";
import { cidOf, RAW_CODEC } from "../publish/cids.ts";
import { FilePicker, type Picked } from "../publish/FilePicker.tsx";
import { type Published, publishFromBrowser, STEPS, type StepId, type StepState } from "../publish/publishFlow.ts";
import { PickProblem, type PickedManifest, readManifest } from "../publish/readManifest.ts";
import { SignInFirst } from "../SignInButtons.tsx";

/** What the gateway takes in one upload; a larger artifact is refused here, before it is read. */
const MAX_ARTIFACT_BYTES = 32 * 1024 * 1024;

interface Read {
  manifest?: PickedManifest;
  artifact?: { name: string; bytes: Uint8Array; cid: string };
  problems: string[];
}

async function readPicked(files: Picked): Promise<Read> {
  const out: Read = { problems: [] };
  if (files.manifest) {
    try {
      out.manifest = readManifest(new Uint8Array(await files.manifest.arrayBuffer()));
      if (out.manifest.kind === "docker")
        out.problems.push(
          "Container modules are published with `lily module publish`: their image archive (usually 50–300 MB) is stored in 1 MiB chunks, which this page does not do.",
        );
    } catch (e) {
      out.problems.push(e instanceof PickProblem ? e.message : String(e));
    }
  }
  if (files.artifact) {
    if (files.artifact.size > MAX_ARTIFACT_BYTES) {
      out.problems.push(`${files.artifact.name} is ${(files.artifact.size / 2 ** 20).toFixed(1)} MiB: the gateway takes artifacts up to 32 MiB.`);
    } else {
      const bytes = new Uint8Array(await files.artifact.arrayBuffer());
      out.artifact = { name: files.artifact.name, bytes, cid: cidOf(RAW_CODEC, bytes) };
    }
  }
  if (out.manifest?.artifactCid && out.artifact && out.artifact.cid !== out.manifest.artifactCid)
    out.problems.push(
      `CID mismatch: ${out.artifact.name} hashes to ${out.artifact.cid}, but the manifest names ${out.manifest.artifactCid}. Pick the module.wasm built with this manifest.`,
    );
  return out;
}

export function Publish() {
  const auth = useAuth();
  const [files, setFiles] = useState<Picked>({});
  const [read, setRead] = useState<Read>({ problems: [] });
  const [steps, setSteps] = useState<Partial<Record<StepId, { state: StepState; detail?: string }>>>({});
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<Published | null>(null);
  const [refusal, setRefusal] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    readPicked(files).then((r) => live && setRead(r));
    return () => {
      live = false;
    };
  }, [files]);

  const pick = (p: Picked) => {
    setFiles((f) => ({ manifest: p.manifest ?? f.manifest, artifact: p.artifact ?? f.artifact }));
    setSteps({});
    setDone(null);
    setRefusal(null);
  };

  const { manifest, artifact } = read;
  const ready = !!manifest && !!artifact && read.problems.length === 0;
  const ref = manifest ? `${manifest.name}@${manifest.version}` : "";

  const publish = async () => {
    if (!ready || !auth.credentials) return;
    setBusy(true);
    setSteps({});
    setDone(null);
    setRefusal(null);
    try {
      const published = await publishFromBrowser(
        { manifest: manifest!, artifact: artifact!.bytes, token: auth.credentials.token, address: auth.credentials.address },
        // A step keeps what it said (the chain step's transaction hash) when it ends.
        (id, state, detail) => setSteps((s) => ({ ...s, [id]: { state, detail: detail ?? s[id]?.detail } })),
      );
      setDone(published);
    } catch (e) {
      setRefusal(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="publish-title" className="publish">
      <h1 id="publish-title">Publish a module</h1>
      <p>
        Build your module with <code>lily module build</code>, then pick the two files it wrote in the module's <code>build</code> folder. Your files go to the
        network's store and your own account registers <em>name@version</em> on chain: it becomes the module's creator, and a published version never changes.
      </p>
      {!auth.credentials && <SignInFirst what="publish a module" />}
      <FilePicker onPick={pick} />
      {read.problems.length > 0 && (
        <div role="alert" className="error" data-testid="pick-problems">
          {read.problems.map((p) => (
            <p key={p}>{p}</p>
          ))}
        </div>
      )}
      {manifest && (
        <dl className="publish-summary" data-testid="publish-summary">
          <dt>Module</dt>
          <dd>{ref}</dd>
          <dt>Description</dt>
          <dd>{manifest.description || "—"}</dd>
          <dt>Manifest CID</dt>
          <dd className="mono" data-testid="manifest-cid">
            {manifest.cid}
          </dd>
          <dt>Artifact CID</dt>
          <dd>
            <span className="mono">{manifest.artifactCid ?? "none"}</span>
            {artifact && manifest.artifactCid && (
              <span className="artifact-check" data-testid="artifact-check">
                {artifact.cid === manifest.artifactCid ? `✓ ${artifact.name} matches` : `✗ ${artifact.name} does not match`}
              </span>
            )}
          </dd>
          <dt>Licence</dt>
          <dd>{manifest.license || "—"}</dd>
          <dt>Royalty</dt>
          <dd>{(manifest.royaltyBps / 100).toFixed(2)}%</dd>
          <dt>Creator</dt>
          <dd>{auth.credentials ? <span title={auth.credentials.address}>you ({short(auth.credentials.address)})</span> : "the account you sign in with"}</dd>
        </dl>
      )}
      <button type="button" className="primary" onClick={publish} disabled={!ready || !auth.credentials || busy}>
        {busy ? `Publishing ${ref}…` : ref ? `Publish ${ref}` : "Publish"}
      </button>
      {Object.keys(steps).length > 0 && (
        <ol className="steps" data-testid="publish-steps" aria-label="Publishing progress">
          {STEPS.map(({ id, label }) => {
            const s = steps[id];
            return (
              <li key={id} className={`step-${s?.state ?? "waiting"}`} data-step={id} data-state={s?.state ?? "waiting"}>
                <span>{label}</span> <span className="muted">({s?.state ?? "waiting"})</span>
                {id === "chain" && s?.detail?.startsWith("0x") && (
                  <span className="mono" data-testid="publish-tx">
                    {" "}
                    transaction {s.detail}
                  </span>
                )}
              </li>
            );
          })}
        </ol>
      )}
      <div aria-live="polite">
        {refusal && (
          <p role="alert" className="error" data-testid="publish-refusal">
            Not published: {refusal}
          </p>
        )}
        {done && manifest && (
          <p role="status" data-testid="publish-done">
            Published {ref} in block {done.blockNumber.toString()} (transaction <span className="mono">{done.hash}</span>).{" "}
            <Link to={`/modules/${encodeURIComponent(manifest.name)}/about`}>Open its page</Link>
          </p>
        )}
      </div>
    </section>
  );
}
