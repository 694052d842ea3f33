// A `file` input of a module's schema: a file dropped on the zone, or chosen with the labelled
// file picker inside it (reached by Tab, opened with Enter or Space like any native control), is
// uploaded at once to the gateway's store (POST /v1/files) and its CID becomes the field's value:
// the job names the file by CID, as `lily run -i image=photo.png` does after uploading it.
import { type DragEvent, useRef, useState } from "react";
import { type Control, useController } from "react-hook-form";
import type { InputSpec } from "../gateway.ts";
import { mib, uploadFile } from "./runApi.ts";

type State =
  | { kind: "empty" }
  | { kind: "uploading"; file: File }
  | { kind: "stored"; file: File; cid: string }
  | { kind: "failed"; file: File; message: string };

export function FileField({
  name,
  spec,
  required,
  token,
  control,
  onFile,
}: {
  name: string;
  spec: InputSpec;
  required: boolean;
  token: string;
  // biome-ignore lint/suspicious/noExplicitAny: the form's value type is the page's; this field only sets a string
  control: Control<any>;
  onFile?: (file: File | undefined) => void;
}) {
  const id = `input-${name}`;
  const help = `${id}-help`;
  const status = `${id}-status`;
  const [state, setState] = useState<State>({ kind: "empty" });
  const [over, setOver] = useState(false);
  const picker = useRef<HTMLInputElement>(null);
  const { field, fieldState } = useController({
    name,
    control,
    rules: {
      required: required ? `${name} is required: choose or drop a file` : false,
      validate: () => (state.kind === "uploading" ? `${name} is still uploading` : true),
    },
  });

  async function pick(file: File | undefined) {
    if (!file) return;
    field.onChange("");
    onFile?.(file);
    setState({ kind: "uploading", file });
    try {
      const { cid } = await uploadFile(token, name, file);
      setState({ kind: "stored", file, cid });
      field.onChange(cid);
    } catch (e) {
      setState({ kind: "failed", file, message: e instanceof Error ? e.message : String(e) });
      onFile?.(undefined);
    }
  }

  const drop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    // The picker then names the dropped file too, so what it shows and what is sent agree.
    if (picker.current && e.dataTransfer.files.length) picker.current.files = e.dataTransfer.files;
    void pick(e.dataTransfer.files[0]);
  };

  const error = fieldState.error?.message;
  return (
    <div className="field">
      <fieldset
        className={`dropzone file-drop${over ? " over" : ""}`}
        data-testid={`drop-${name}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={drop}
      >
        <legend>
          {name}
          {required && <span aria-hidden="true"> *</span>}
        </legend>
        <label htmlFor={id}>
          Choose a file for {name}, or drop one on this box
          <input
            id={id}
            ref={picker}
            type="file"
            required={required}
            aria-describedby={`${help} ${status}`}
            aria-invalid={error || state.kind === "failed" ? true : undefined}
            onBlur={field.onBlur}
            onChange={(e) => void pick(e.target.files?.[0])}
          />
        </label>
        <p id={status} className="file-status" role="status" data-testid={`file-status-${name}`} data-state={state.kind}>
          {state.kind === "empty" && "No file chosen."}
          {state.kind === "uploading" && `Uploading ${state.file.name} (${mib(state.file.size)})…`}
          {state.kind === "stored" && (
            <>
              {state.file.name} ({mib(state.file.size)}) stored as <span className="mono">{state.cid}</span>
            </>
          )}
        </p>
        {state.kind === "failed" && (
          <p className="error" role="alert">
            {state.message}
          </p>
        )}
      </fieldset>
      <p id={help} className="muted">
        {spec.description ?? "A file, uploaded to the network's store; the job names it by its CID."}
      </p>
      {error && <p className="error">{error}</p>}
    </div>
  );
}
