// Run a module: a form generated from its input schema (types, defaults, enums, bounds, required),
// the most to pay and the verification policy, then the job's life as it happens (GET
// /v1/jobs/:id/events) and its result: stdout as text, the result's CID and the deal.
import { useState } from "react";
import { useForm } from "react-hook-form";
import { Link, useParams } from "react-router";
import { useAuth } from "../auth.tsx";
import { lily, priceRange, toBaseUnits } from "../format.ts";
import { call, type CatalogEntry, getJson, type InputSpec, type JobView } from "../gateway.ts";
import { type FormValues, initialValues, jobInputs } from "../jobInputs.ts";
import { SignInFirst } from "../SignInButtons.tsx";
import { readSse } from "../sse.ts";
import { useCatalog } from "../useCatalog.ts";

const POLICIES = [
  ["trust", "Trust: accept the provider's result"],
  ["optimistic", "Optimistic: anyone may challenge"],
  ["replicate", "Replicate: several providers must agree"],
  ["audit", "Audit: a mediator re-runs a sample"],
] as const;

interface Stage {
  stage: string;
  detail?: string;
}
interface JobResult {
  dealId: string;
  provider: string;
  price: string;
  resultCid: string;
  exitCode: number;
  stdout?: string;
}

export function RunModule() {
  const { name = "" } = useParams();
  const { entries, error } = useCatalog();
  const { credentials } = useAuth();
  const entry = entries?.find((e) => e.kind === "module" && e.name === name);
  if (error) return <p role="alert">Could not load the catalog: {error}</p>;
  if (!entries) return <p>Loading {name}…</p>;
  if (!entry)
    return (
      <p>
        No module named {name}. <Link to="/">Back to the marketplace</Link>
      </p>
    );
  return (
    <section aria-labelledby="run-title">
      <h1 id="run-title">
        Run {entry.name} <span className="version">{entry.version}</span>
      </h1>
      <p>{entry.description}</p>
      <p className="muted">
        {entry.prices.providers} provider{entry.prices.providers === 1 ? "" : "s"} · {priceRange(entry.prices)}
      </p>
      {credentials ? <RunForm entry={entry} token={credentials.token} /> : <SignInFirst what={`run ${entry.name}`} />}
    </section>
  );
}

function RunForm({ entry, token }: { entry: CatalogEntry; token: string }) {
  const inputs = entry.inputs ?? {};
  const required = new Set(entry.required ?? []);
  const defaultMax = entry.prices.max ? lily(entry.prices.max).replace(" LILY", "") : "10";
  const { register, handleSubmit, formState } = useForm<FormValues & { __maxPrice: string; __policy: string }>({
    defaultValues: { ...initialValues(inputs), __maxPrice: defaultMax, __policy: "trust" },
  });
  const [stages, setStages] = useState<Stage[]>([]);
  const [result, setResult] = useState<JobResult | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [running, setRunning] = useState(false);

  const onSubmit = handleSubmit(async (values) => {
    setStages([]);
    setResult(null);
    setFailure(null);
    setRunning(true);
    try {
      const job = await getJson<JobView>("v1/jobs", {
        auth: token,
        body: { module: entry.name, inputs: jobInputs(inputs, values), max_price: toBaseUnits(values.__maxPrice as string), policy: values.__policy },
      });
      const res = await call(`v1/jobs/${job.id}/events`, { auth: token });
      for await (const e of readSse(res.body!)) {
        const data = JSON.parse(e.data) as { progress?: Record<string, string>; result?: JobResult; error?: { code: string; message: string } };
        if (e.event === "progress" && data.progress) setStages((s) => [...s, describe(data.progress!)]);
        else if (e.event === "result" && data.result) setResult(data.result);
        else if (e.event === "error" && data.error) setFailure(`${data.error.code}: ${data.error.message}`);
      }
    } catch (e) {
      setFailure(e instanceof Error ? e.message : String(e));
    } finally {
      setRunning(false);
    }
  });

  return (
    <>
      <form onSubmit={onSubmit} className="run-form" noValidate>
        <fieldset>
          <legend>Inputs</legend>
          {Object.entries(inputs).map(([field, spec]) => (
            <Field
              key={field}
              name={field}
              spec={spec}
              required={required.has(field)}
              register={register}
              error={formState.errors[field]?.message as string | undefined}
            />
          ))}
        </fieldset>
        <fieldset>
          <legend>Payment and verification</legend>
          <label>
            Max price (LILY)
            <input
              inputMode="decimal"
              {...register("__maxPrice", {
                required: "a max price is required",
                pattern: { value: /^\d+(\.\d{1,18})?$/, message: "a decimal amount of LILY" },
              })}
              aria-invalid={formState.errors.__maxPrice ? true : undefined}
            />
          </label>
          {formState.errors.__maxPrice && <p className="error">{formState.errors.__maxPrice.message}</p>}
          <label>
            Verification policy
            <select {...register("__policy")}>
              {POLICIES.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </label>
        </fieldset>
        <button type="submit" disabled={running}>
          {running ? "Running…" : `Run ${entry.name}`}
        </button>
      </form>
      <section aria-labelledby="progress-title" aria-live="polite" className="progress">
        <h2 id="progress-title">Progress</h2>
        {stages.length === 0 && !running && <p className="muted">Not started.</p>}
        <ol data-testid="stages">
          {stages.map((s, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: stages only grow, in order
            <li key={i}>
              <strong>{s.stage}</strong> {s.detail && <span className="mono">{s.detail}</span>}
            </li>
          ))}
        </ol>
        {failure && (
          <p role="alert" className="error">
            {failure}
          </p>
        )}
        {result && <ResultView result={result} />}
      </section>
    </>
  );
}

function describe(p: Record<string, string>): Stage {
  const { stage, ...rest } = p;
  const detail = rest.txHash
    ? `tx ${rest.txHash}`
    : rest.price
      ? `price ${lily(rest.price)}`
      : (rest.resultCid ?? rest.dealId ?? rest.jobOfferId ?? rest.reason);
  return { stage: stage ?? "?", detail };
}

function ResultView({ result }: { result: JobResult }) {
  return (
    <article aria-labelledby="result-title" className="result" data-testid="result">
      <h2 id="result-title">Result</h2>
      {result.stdout !== undefined && <pre data-testid="stdout">{result.stdout}</pre>}
      <dl>
        <dt>Result CID</dt>
        <dd className="mono" data-testid="result-cid">
          {result.resultCid}
        </dd>
        <dt>Deal</dt>
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

type Register = ReturnType<typeof useForm<FormValues & { __maxPrice: string; __policy: string }>>["register"];

function Field({ name, spec, required, register, error }: { name: string; spec: InputSpec; required: boolean; register: Register; error?: string }) {
  const id = `input-${name}`;
  const help = spec.description ? `${id}-help` : undefined;
  const label = (
    <>
      {name}
      {required && <span aria-hidden="true"> *</span>}
    </>
  );
  const rules = { required: required ? `${name} is required` : false };
  let control: React.ReactNode;
  if (spec.enum) {
    control = (
      <select id={id} aria-describedby={help} aria-required={required} {...register(name, rules)}>
        {!required && <option value="">(default)</option>}
        {spec.enum.map((v) => (
          <option key={String(v)} value={String(v)}>
            {String(v)}
          </option>
        ))}
      </select>
    );
  } else if (spec.type === "boolean") {
    control = <input id={id} type="checkbox" aria-describedby={help} {...register(name)} />;
  } else if (spec.type === "integer" || spec.type === "number") {
    const bound = (v: number | undefined, m: string) => (v === undefined ? undefined : { value: v, message: `${name} must be ${m} ${v}` });
    control = (
      <input
        id={id}
        type="number"
        step={spec.type === "integer" ? 1 : "any"}
        min={spec.minimum}
        max={spec.maximum}
        aria-describedby={help}
        aria-required={required}
        aria-invalid={error ? true : undefined}
        {...register(name, { ...rules, min: bound(spec.minimum, "at least"), max: bound(spec.maximum, "at most") })}
      />
    );
  } else {
    control = <textarea id={id} rows={2} aria-describedby={help} aria-required={required} aria-invalid={error ? true : undefined} {...register(name, rules)} />;
  }
  return (
    <div className={`field${spec.type === "boolean" ? " field-check" : ""}`}>
      <label htmlFor={id}>{label}</label>
      {control}
      {spec.description && (
        <p id={help} className="muted">
          {spec.description}
        </p>
      )}
      {error && <p className="error">{error}</p>}
    </div>
  );
}
