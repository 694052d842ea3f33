// `lily module`: the module creator's commands and the marketplace's view of the registry.
//   init <name>       scaffold a module that builds and runs (--kind wasm|docker)
//   build [dir]       compile (or build the image of) a module into <dir>/build
//   publish [dir]     store its artifact and manifest, and register name@version on chain
//   list              every published module, its latest version and live prices
//   show <ref>        one module (name, name@version or manifest CID): manifest, versions, prices
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { Option } from "commander";
import { createLilyClient, listModuleNames, listModuleVersions, type LilyClient } from "@lily/chain";
import { createClient, solverRoutes } from "@lily/api";
import { LilyError, formatLily, type ModuleManifest, type ResourceOffer } from "@lily/protocol";
import { publishBuiltModule, resolveModule } from "@lily/sdk";
import { StoreClient } from "@lily/store";
import { addNetworkFlags, resolveNetwork } from "../config/resolveNetwork.ts";
import { JOB_CREATOR_ROLE } from "../config/home.ts";
import { roleAccount } from "../keys.ts";
import { buildModuleDir } from "../module/build.ts";
import { containerImageBuilder } from "../module/imageBuilder.ts";
import { livePrices, type LivePrices } from "../module/livePrices.ts";
import { scaffoldModule, type ModuleKind } from "../module/scaffold.ts";
import { createOutput, type Output } from "../output.ts";

function priceText(p: LivePrices): string {
  if (p.providers === 0) return "no provider offers it now";
  const range = p.min === p.max ? formatLily(p.min!) : `${formatLily(p.min!)}–${formatLily(p.max!)}`;
  return `${range} per job from ${p.providers} provider${p.providers === 1 ? "" : "s"}`;
}

function describe(out: Output, ref: string, cid: string, m: ModuleManifest, prices: LivePrices): void {
  const inputs = Object.entries(m.inputs)
    .map(([k, f]) => `${k}:${f.type}${f.enum ? `(${f.enum.join("|")})` : ""}${m.required.includes(k) ? "" : "?"}`)
    .join(" ");
  out.line(`${ref.padEnd(22)} ${m.description}`);
  out.line(`${"".padEnd(22)} ${m.executor.kind}, inputs: ${inputs || "none"}, ${priceText(prices)}`);
  out.line(`${"".padEnd(22)} manifest ${cid}`);
}

async function openOffers(solverUrl: string): Promise<ResourceOffer[]> {
  const solver = createClient(solverUrl, solverRoutes, { peer: `solver at ${solverUrl}` });
  return (await solver.listResourceOffers({})).offers.map((o) => o.offer);
}

function readClient(cmd: Command): { net: ReturnType<typeof resolveNetwork>; chain: LilyClient; store: StoreClient } {
  const net = resolveNetwork(cmd);
  return { net, chain: createLilyClient({ rpcUrl: net.rpcUrl, addresses: net }), store: new StoreClient(net.storeUrl) };
}

export function registerModule(program: Command): void {
  const module = program.command("module").description("create, build and publish modules; browse the registry");

  module
    .command("init <name>")
    .description("scaffold a new module in ./<name> (or --dir) that builds and runs as it stands")
    .addOption(
      new Option("--kind <kind>", "wasm (AssemblyScript, runs anywhere) or docker (a container image from Debian packages)")
        .choices(["wasm", "docker"])
        .default("wasm"),
    )
    .option("--dir <dir>", "where to create it (default: ./<name>)")
    .action((name: string, o: { kind: ModuleKind; dir?: string }) => {
      const out = createOutput();
      const dir = resolve(o.dir ?? name);
      const files = scaffoldModule(dir, name, o.kind);
      out.line(`created ${o.kind} module ${name} in ${dir}: ${files.join(", ")}`);
      out.line(`next: npx lily module build ${o.dir ?? name} && npx lily module publish ${o.dir ?? name}`);
    });

  module
    .command("build [dir]")
    .description("build a module (default: the current folder) into <dir>/build: its artifact and its manifest with their CIDs")
    .option("--json", "print JSON")
    .action(async (dir: string | undefined, o: { json?: boolean }) => {
      const out = createOutput({ json: o.json });
      const built = await buildModuleDir(dir ?? ".", { images: await containerImageBuilder(), onProgress: (l) => out.progress(l) });
      out.line(`built ${built.ref}: manifest ${built.manifestCid}, ${built.artifact.kind} artifact ${built.artifact.cid}`);
      out.result({ ref: built.ref, manifestCid: built.manifestCid, artifact: built.artifact });
    });

  addNetworkFlags(
    module
      .command("publish [dir]")
      .description("build a module, put it in the store and register name@version on chain (versions are immutable)")
      .option("--as <role>", "publish from this role's key (default: the job creator's)")
      .option("--key <path>", "keystore file of the publishing account")
      .option("--json", "print JSON"),
  ).action(async (dir: string | undefined, o: { as?: string; key?: string; json?: boolean }, cmd: Command) => {
    const out = createOutput({ json: o.json });
    const net = resolveNetwork(cmd);
    const account = roleAccount(net.home, o.as ?? JOB_CREATOR_ROLE, o.key);
    const built = await buildModuleDir(dir ?? ".", { images: await containerImageBuilder(), onProgress: (l) => out.progress(l) });
    out.progress(`publishing ${built.ref} from ${account.address}`);
    const published = await publishBuiltModule(
      { chain: createLilyClient({ rpcUrl: net.rpcUrl, account, addresses: net }), store: new StoreClient(net.storeUrl) },
      // A WASI binary is one raw block; an image archive is a chunked file.
      { ...built, artifact: built.artifact.kind === "wasm" ? { bytes: new Uint8Array(readFileSync(built.artifact.path)) } : { path: built.artifact.path } },
    );
    out.line(
      `${published.published ? "published" : "already published"} ${published.ref}: manifest ${published.manifestCid}${published.txHash ? ` (tx ${published.txHash})` : ""}`,
    );
    out.result(published);
  });

  addNetworkFlags(
    module.command("list").description("every published module: latest version, what it does, live prices").option("--json", "print JSON"),
  ).action(async (o: { json?: boolean }, cmd: Command) => {
    const out = createOutput({ json: o.json });
    const { net, chain, store } = readClient(cmd);
    const offers = await openOffers(net.solverUrl);
    const list = [];
    for (let offset = 0; ; ) {
      const { names, total } = await listModuleNames(chain, { offset, limit: 100 });
      for (const name of names) {
        // Models share the registry; `lily model list` shows them.
        const resolved = await resolveModule(name, { chain, store }).catch((e: unknown) => {
          if (e instanceof LilyError && e.details.model === true) return undefined;
          throw e;
        });
        if (!resolved) continue;
        const { cid, manifest, entry } = resolved;
        const prices = livePrices(cid, offers);
        describe(out, `${name}@${manifest.version}`, cid, manifest, prices);
        list.push({
          name,
          latest: manifest.version,
          manifestCid: cid,
          creator: entry?.creator,
          royaltyBps: entry?.royaltyBps,
          executor: manifest.executor.kind,
          prices,
        });
      }
      offset += names.length;
      if (names.length === 0 || offset >= total) break;
    }
    if (list.length === 0) out.line("no module is published on this network yet (publish one with `lily module publish`)");
    out.result(list);
  });

  addNetworkFlags(
    module
      .command("show <ref>")
      .description("one module (name, name@version or manifest CID): its manifest, versions and live prices")
      .option("--json", "print JSON"),
  ).action(async (ref: string, o: { json?: boolean }, cmd: Command) => {
    const out = createOutput({ json: o.json });
    const { net, chain, store } = readClient(cmd);
    const { cid, manifest, entry } = await resolveModule(ref, { chain, store });
    const versions = entry ? await listModuleVersions(chain, { name: manifest.name }) : [];
    const prices = livePrices(cid, await openOffers(net.solverUrl));
    describe(out, `${manifest.name}@${manifest.version}`, cid, manifest, prices);
    if (entry)
      out.line(`${"".padEnd(22)} creator ${entry.creator}, royalty ${entry.royaltyBps} bps, published ${new Date(entry.publishedAt * 1000).toISOString()}`);
    if (versions.length) out.line(`${"".padEnd(22)} versions: ${versions.join(", ")}`);
    const r = manifest.resources;
    out.line(
      `${"".padEnd(22)} needs ${r.cpu} CPU, ${r.memoryMb} MiB${r.gpu ? `, ${r.gpu} GPU (${r.vramMb} MiB VRAM)` : ""}, at most ${r.timeoutSeconds} s; ${manifest.determinism}, comparator ${manifest.comparator.kind}, licence ${manifest.license}`,
    );
    out.result({ manifestCid: cid, manifest, entry, versions, prices });
  });
}
