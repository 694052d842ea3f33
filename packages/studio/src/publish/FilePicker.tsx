// Where a module creator hands the page its two built files: dropped together on the zone (sorted
// by name: *.json is the manifest, anything else the artifact) or chosen one by one with the two
// labelled file inputs, which keyboard and screen-reader users reach like any other field.
import { type DragEvent, useId, useState } from "react";

export interface Picked {
  manifest?: File;
  artifact?: File;
}

export function FilePicker({ onPick }: { onPick: (p: Picked) => void }) {
  const [over, setOver] = useState(false);
  const id = useId();
  const drop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const files = [...e.dataTransfer.files];
    onPick({
      manifest: files.find((f) => f.name.toLowerCase().endsWith(".json")),
      artifact: files.find((f) => !f.name.toLowerCase().endsWith(".json")),
    });
  };
  return (
    <fieldset
      className={`dropzone${over ? " over" : ""}`}
      data-testid="dropzone"
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={drop}
    >
      <legend>Module files</legend>
      <p>
        Drop <code>build/manifest.json</code> and <code>build/module.wasm</code> here, or choose them:
      </p>
      <div className="pickers">
        <label htmlFor={`${id}-manifest`}>
          Manifest (manifest.json)
          <input id={`${id}-manifest`} type="file" accept=".json,application/json" onChange={(e) => onPick({ manifest: e.target.files?.[0] })} />
        </label>
        <label htmlFor={`${id}-artifact`}>
          Artifact (module.wasm)
          <input id={`${id}-artifact`} type="file" accept=".wasm,application/wasm" onChange={(e) => onPick({ artifact: e.target.files?.[0] })} />
        </label>
      </div>
    </fieldset>
  );
}
