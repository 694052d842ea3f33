// A job's result the way people want it: stdout and text files rendered, JSON pretty-printed,
// images inline (and for a faces result, the boxes from its JSON drawn over the image sent),
// audio playable, every file downloadable, and the result's CID, the on-chain deal and each
// file's CID shown. Files come from GET /v1/jobs/:id/files/:name with the bearer token and are
// shown from blob URLs; nothing a module wrote is ever rendered as HTML.
import { useEffect, useState } from "react";
import { lily } from "../format.ts";
import { fetchFile, type JobResultView, type ResultFile } from "./runApi.ts";

export interface DeliveredResult {
  dealId: string;
  provider: string;
  price: string;
  resultCid: string;
  exitCode: number;
  stdout?: string;
}

/** Inline files are fetched at once; others only when asked for (they may be large). */
const shownInline = (t: string) => t.startsWith("image/") || t.startsWith("audio/") || t === "text/plain" || t === "application/json";

export function ResultView({
  result,
  view,
  token,
  inputImage,
}: {
  result: DeliveredResult;
  view?: JobResultView;
  token: string;
  /** The image the user sent, when the module took one: a faces result is drawn over it. */
  inputImage?: File;
}) {
  const files = (view?.result?.files ?? []).filter((f) => f.name !== "stdout" || result.stdout === undefined);
  const stderr = view?.result?.files.find((f) => f.name === "stderr");
  return (
    <article aria-labelledby="result-title" className="result" data-testid="result">
      <h2 id="result-title">Result</h2>
      {result.stdout !== undefined && result.stdout !== "" && (
        <>
          <h3>Output</h3>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard to scroll it */}
          <pre data-testid="stdout" tabIndex={0}>
            {result.stdout}
          </pre>
        </>
      )}
      {files
        .filter((f) => f !== stderr)
        .map((f) => (
          <FileView key={f.name} file={f} token={token} inputImage={inputImage} />
        ))}
      {stderr && <FileView file={stderr} token={token} collapsed />}
      <dl className="facts">
        <dt>Result CID</dt>
        <dd className="mono" data-testid="result-cid">
          {result.resultCid}
        </dd>
        <dt>Deal on chain</dt>
        <dd className="mono" data-testid="deal-id">
          {result.dealId}
        </dd>
        <dt>Provider</dt>
        <dd className="mono">{result.provider}</dd>
        <dt>Price</dt>
        <dd>{lily(result.price)}</dd>
        <dt>Exit code</dt>
        <dd>{result.exitCode}</dd>
      </dl>
    </article>
  );
}

type Loaded = { kind: "loading" } | { kind: "idle" } | { kind: "ready"; blob: Blob; url: string; text?: string } | { kind: "failed"; message: string };

function FileView({ file, token, inputImage, collapsed }: { file: ResultFile; token: string; inputImage?: File; collapsed?: boolean }) {
  const inline = shownInline(file.media_type);
  const [loaded, setLoaded] = useState<Loaded>(inline ? { kind: "loading" } : { kind: "idle" });

  async function load(): Promise<Loaded> {
    try {
      const blob = await fetchFile(token, file);
      const text = file.media_type.startsWith("text/") || file.media_type === "application/json" ? await blob.text() : undefined;
      // A download is always bytes: a blob URL is this page's origin, so it must never be opened as a page.
      const url = URL.createObjectURL(
        file.media_type.startsWith("image/") || file.media_type.startsWith("audio/") ? blob : new Blob([blob], { type: "application/octet-stream" }),
      );
      return { kind: "ready", blob, url, ...(text !== undefined && { text }) };
    } catch (e) {
      return { kind: "failed", message: e instanceof Error ? e.message : String(e) };
    }
  }

  // biome-ignore lint/correctness/useExhaustiveDependencies: fetched once per file
  useEffect(() => {
    if (!inline) return;
    let live = true;
    let url: string | undefined;
    void load().then((l) => {
      if (l.kind === "ready") url = l.url;
      if (live) setLoaded(l);
      else if (url) URL.revokeObjectURL(url);
    });
    return () => {
      live = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [file.url]);

  const download = async () => {
    setLoaded({ kind: "loading" });
    const l = await load();
    setLoaded(l);
    if (l.kind === "ready") {
      const a = document.createElement("a");
      a.href = l.url;
      a.download = file.name;
      a.click();
    }
  };

  const body = loaded.kind === "ready" ? <Rendered file={file} loaded={loaded} inputImage={inputImage} /> : null;
  return (
    <section className="result-file" aria-label={file.name} data-testid={`file-${file.name}`}>
      <h3>
        {file.name} <span className="muted media-type">{file.media_type}</span>
      </h3>
      {loaded.kind === "loading" && <p className="muted">Loading…</p>}
      {loaded.kind === "failed" && <p className="error">{loaded.message}</p>}
      {collapsed && body ? (
        <details>
          <summary>Show {file.name}</summary>
          {body}
        </details>
      ) : (
        body
      )}
      <p className="file-meta">
        {loaded.kind === "ready" ? (
          <a href={loaded.url} download={file.name}>
            Download {file.name}
          </a>
        ) : (
          loaded.kind !== "loading" && (
            <button type="button" className="link" onClick={() => void download()}>
              Download {file.name}
            </button>
          )
        )}{" "}
        <span className="muted">
          CID <span className="mono">{file.cid}</span>
        </span>
      </p>
    </section>
  );
}

function Rendered({ file, loaded, inputImage }: { file: ResultFile; loaded: Extract<Loaded, { kind: "ready" }>; inputImage?: File }) {
  const t = file.media_type;
  if (t.startsWith("image/")) return <img src={loaded.url} alt={`${file.name}, as the module wrote it`} className="result-image" />;
  if (t.startsWith("audio/")) {
    return (
      // biome-ignore lint/a11y/useMediaCaption: a module's audio comes with no captions to give
      <audio controls src={loaded.url} aria-label={file.name} />
    );
  }
  if (t === "application/json") {
    const parsed = parseJson(loaded.text ?? "");
    const faces = parsed !== undefined ? facesOf(parsed) : undefined;
    return (
      <>
        {faces && inputImage && <FacesOverlay image={inputImage} faces={faces} />}
        {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard to scroll it */}
        <pre className="json" data-testid={`json-${file.name}`} tabIndex={0}>
          {parsed === undefined ? loaded.text : JSON.stringify(parsed, null, 2)}
        </pre>
      </>
    );
  }
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard to scroll it
    <pre className="text" tabIndex={0}>
      {loaded.text}
    </pre>
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
interface Faces {
  width?: number;
  height?: number;
  faces: Box[];
}

/** The faces module's JSON (`{width, height, faces: [{x, y, width, height}]}`, or a bare list of boxes), else undefined. */
export function facesOf(v: unknown): Faces | undefined {
  const isBox = (b: unknown): b is Box =>
    typeof b === "object" && b !== null && ["x", "y", "width", "height"].every((k) => typeof (b as Record<string, unknown>)[k] === "number");
  if (Array.isArray(v)) return v.every(isBox) ? { faces: v } : undefined;
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (!Array.isArray(o.faces) || !o.faces.every(isBox)) return undefined;
  return { faces: o.faces, ...(typeof o.width === "number" && { width: o.width }), ...(typeof o.height === "number" && { height: o.height }) };
}

/** The image sent, with a box drawn over each face found (an SVG in the image's own pixel coordinates). */
function FacesOverlay({ image, faces }: { image: File; faces: Faces }) {
  const [src, setSrc] = useState<string>();
  const [size, setSize] = useState<{ w: number; h: number }>();
  useEffect(() => {
    const url = URL.createObjectURL(image);
    setSrc(url);
    return () => URL.revokeObjectURL(url);
  }, [image]);
  const w = faces.width ?? size?.w;
  const h = faces.height ?? size?.h;
  const n = faces.faces.length;
  return (
    <figure className="faces" data-testid="faces-overlay">
      <div className="faces-frame">
        {src && <img src={src} alt={`${image.name}, as sent`} onLoad={(e) => setSize({ w: e.currentTarget.naturalWidth, h: e.currentTarget.naturalHeight })} />}
        {w && h && (
          <svg viewBox={`0 0 ${w} ${h}`} preserveAspectRatio="none" aria-hidden="true">
            {faces.faces.map((b, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: the module's list, in its order
              <rect key={i} x={b.x} y={b.y} width={b.width} height={b.height} data-testid="face-box" />
            ))}
          </svg>
        )}
      </div>
      <figcaption>
        {n === 0
          ? "No face found."
          : `${n} face${n === 1 ? "" : "s"} found: ${faces.faces.map((b) => `${b.width}×${b.height} at (${b.x}, ${b.y})`).join("; ")}.`}
      </figcaption>
    </figure>
  );
}
