// Run a module: a form generated from its input schema (types, defaults, enums, bounds, required;
// a file input is dropped or chosen and uploaded to the store, its CID standing in the inputs), the
// most to pay and the verification policy with the quote for them shown before paying, then the
// job's life as it happens (GET /v1/jobs/:id/events, each step with its transaction) and its
// result rendered by kind (run/ResultView.tsx), with the result's CID and the on-chain deal.
import { useState } from "react";
import { type Control, useForm } from "react-hook-form";
import { Link, useParams } from "react-router";
import { useAuth } from "../auth.tsx";
import { lily, priceRange, toBaseUnits } from "../format.ts";
import { call, type CatalogEntry, getJson, type InputSpec, type JobView } from "../gateway.ts";
import { type FormValues, initialValues, jobInputs } from "../jobInputs.ts";
import { FileField } from "../run/FileField.tsx";
import { JobLife, type ProgressEvent, type Settlement } from "../run/JobLife.tsx";
import { QuotePanel } from "../run/QuotePanel.tsx";
import { type DeliveredResult, ResultView } from "../run/ResultView.tsx";
import { type DealOnChain, type JobResultView, jobResult } from "../run/runApi.ts";
import { SignInFirst } from "../SignInButtons.tsx";
import { readSse } from "../sse.ts";
import { useCatalog } from "../useCatalog.ts";

/** Each policy, what it does, and its parameter's help (empty: the policy's default). */
const POLICIES = [
  ["trust", "Trust: accept the provider's result", ""],
  ["optimistic", "Optimistic: anyone may challenge", "the challenge window, e.g. 10m or 1h"],
  ["replicate", "Replicate: several providers must agree", "how many providers run it, e.g. 2 or 3"],
  ["audit", "Audit: a mediator re-runs a sample", "the share re-run, e.g. 10%"],
] as const;

type RunValues = FormValues & { __maxPrice: string; __policy: string; __policyParam: string };

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
    <section aria-labelledby="run-title" className="run">
      <h1 id="run-title">
        Run {entry.name} <span className="version">{entry.version}</span>
      </h1>
      <p>{entry.description}</p>
      <p className="muted">
        {entry.prices.providers} provider{entry.prices.providers === 1 ? "" : "s"} · {priceRange(entry.prices)}
      </p>
      {credentials ? <RunForm key={entry.name} entry={entry} token={credentials.token} /> : <SignInFirst what={`run ${entry.name}`} />}
    </section>
  );
}

function RunForm({ entry, token }: { entry: CatalogEntry; token: string }) {
  const inputs = entry.inputs ?? {};
  const required = new Set(entry.required ?? []);
  const defaultMax = entry.prices.max ? lily(entry.prices.max).replace(" LILY", "") : "10";
  const { register, handleSubmit, formState, control, watch } = useForm<RunValues>({
    defaultValues: { ...initialValues(inputs), __maxPrice: defaultMax, __policy: "trust", __policyParam: "" },
  });
  const [events, setEvents] = useState<ProgressEvent[]>([]);
  const [result, setResult] = useState<DeliveredResult | null>(null);
  const [settlement, setSettlement] = useState<Settlement>();
  const [view, setView] = useState<JobResultView>();
  /** The submitted job's id: its page has every signed record and transaction, and the challenge. */
  const [jobId, setJobId] = useState<string>();
  const [failure, setFailure] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  /** The image the user sent, kept to draw a faces result over it. */
  const [sentImage, setSentImage] = useState<File>();

  const policyName = watch("__policy");
  const policyParam = watch("__policyParam").trim();
  const policy = policyName === "trust" || policyParam === "" ? policyName : `${policyName}:${policyParam}`;
  const maxPrice = watch("__maxPrice");
  const paramHelp = POLICIES.find(([p]) => p === policyName)?.[2] ?? "";

  const onSubmit = handleSubmit(async (values) => {
    setEvents([]);
    setResult(null);
    setSettlement(undefined);
    setView(undefined);
    setFailure(null);
    setJobId(undefined);
    setRunning(true);
    try {
      const job = await getJson<JobView>("v1/jobs", {
        auth: token,
        body: { module: entry.name, inputs: jobInputs(inputs, values), max_price: toBaseUnits(values.__maxPrice as string), policy },
      });
      setJobId(job.id);
      const res = await call(`v1/jobs/${job.id}/events`, { auth: token });
      for await (const e of readSse(res.body!)) {
        const data = JSON.parse(e.data) as {
          progress?: ProgressEvent;
          result?: DeliveredResult & { settlement?: string };
          error?: { code?: string; message: string };
        };
        if (e.event === "progress" && data.progress) setEvents((s) => [...s, data.progress!]);
        else if (e.event === "result" && data.result) {
          setResult(data.result);
          setSettlement({ state: data.result.settlement ?? "settled" });
          // The deals' every on-chain event (the settlement's transaction among them) and the result's files.
          setView(await jobResult(token, job.id));
        } else if (e.event === "error" && data.error) setFailure(data.error.code ? `${data.error.code}: ${data.error.message}` : data.error.message);
        else if (e.event === "message" && data.error) setFailure(data.error.message);
      }
    } catch (e) {
      setFailure(e instanceof Error ? e.message : String(e));
    } finally {
      setRunning(false);
    }
  });

  const deals: DealOnChain[] | undefined = view?.deals;
  return (
    <>
      <form onSubmit={onSubmit} className="run-form" noValidate>
        <fieldset>
          <legend>Inputs</legend>
          {Object.keys(inputs).length === 0 && <p className="muted">This module takes no inputs.</p>}
          {Object.entries(inputs).map(([field, spec]) =>
            spec.type === "file" ? (
              <FileField
                key={field}
                name={field}
                spec={spec}
                required={required.has(field)}
                token={token}
                control={control as unknown as Control}
                onFile={(f) => {
                  if (!f || f.type.startsWith("image/")) setSentImage(f);
                }}
              />
            ) : (
              <Field
                key={field}
                name={field}
                spec={spec}
                required={required.has(field)}
                register={register}
                error={formState.errors[field]?.message as string | undefined}
              />
            ),
          )}
        </fieldset>
        <fieldset>
          <legend>Payment and verification</legend>
          <div className="field">
            <label htmlFor="run-max-price">Max price (LILY)</label>
            <input
              id="run-max-price"
              inputMode="decimal"
              aria-describedby="run-max-price-help"
              {...register("__maxPrice", {
                required: "a max price is required",
                pattern: { value: /^\d+(\.\d{1,18})?$/, message: "a decimal amount of LILY" },
              })}
              aria-invalid={formState.errors.__maxPrice ? true : undefined}
            />
            <p id="run-max-price-help" className="muted">
              The most one deal may cost; the gateway pays it from its escrow.
            </p>
            {formState.errors.__maxPrice && <p className="error">{formState.errors.__maxPrice.message}</p>}
          </div>
          <div className="field">
            <label htmlFor="run-policy">Verification policy</label>
            <select id="run-policy" {...register("__policy")}>
              {POLICIES.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </div>
          {policyName !== "trust" && (
            <div className="field">
              <label htmlFor="run-policy-param">Policy parameter (optional)</label>
              <input
                id="run-policy-param"
                aria-describedby="run-policy-param-help"
                {...register("__policyParam", { pattern: { value: /^[0-9A-Za-z.%]{0,16}$/, message: "a number, a duration (10m) or a share (10%)" } })}
              />
              <p id="run-policy-param-help" className="muted">
                {paramHelp}; empty for the policy's default.
              </p>
              {formState.errors.__policyParam && <p className="error">{formState.errors.__policyParam.message}</p>}
            </div>
          )}
        </fieldset>
        <QuotePanel token={token} module={entry.name} maxPrice={maxPrice} policy={policy} />
        <button type="submit" disabled={running}>
          {running ? "Running…" : `Run ${entry.name}`}
        </button>
      </form>
      <section aria-labelledby="progress-title" aria-live="polite" className="progress">
        <h2 id="progress-title">Progress</h2>
        {events.length === 0 && !running && !failure && <p className="muted">Not started.</p>}
        <JobLife events={events} settlement={settlement} deals={deals} active={running} />
        {jobId && (
          <p>
            <Link to={`/jobs/${jobId}`} data-testid="job-page-link">
              The job's page: every signed record and transaction, and the challenge
            </Link>
          </p>
        )}
        {failure && (
          <p role="alert" className="error">
            {failure}
          </p>
        )}
      </section>
      {result && <ResultView result={result} view={view} token={token} inputImage={sentImage} />}
    </>
  );
}

type Register = ReturnType<typeof useForm<RunValues>>["register"];

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
