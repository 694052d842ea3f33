// `lily modules`: the modules this network knows, with their manifests fetched from the store.
import type { Command } from "commander";
import { StoreClient } from "@lily/store";
import { ModuleManifest, parse } from "@lily/protocol";
import { addNetworkFlags, resolveNetwork } from "../config/resolveNetwork.ts";
import { createOutput } from "../output.ts";

export function registerModules(program: Command): void {
  addNetworkFlags(program.command("modules").description("list the modules you can run").option("--json", "print JSON")).action(
    async (o: { json?: boolean }, cmd: Command) => {
      const net = resolveNetwork(cmd);
      const store = new StoreClient(net.storeUrl);
      const out = createOutput({ json: o.json });
      const list = [];
      for (const [ref, cid] of Object.entries(net.modules)) {
        const m = parse(ModuleManifest, await store.getRecord(cid), `module ${ref}`);
        const inputs = Object.entries(m.inputs)
          .map(([k, f]) => `${k}:${f.type}${m.required.includes(k) ? "" : "?"}`)
          .join(" ");
        out.line(`${ref.padEnd(18)} ${m.description}`);
        out.line(`${"".padEnd(18)} inputs: ${inputs}   manifest: ${cid}`);
        list.push({ ref, cid, manifest: m });
      }
      out.result(list);
    },
  );
}
