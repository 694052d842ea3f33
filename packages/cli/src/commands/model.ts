// `lily model`: models on the network (Anura).
//   add <path.gguf | hf:owner/repo/file.gguf>   put a GGUF model in the store and register name@version
//   serve <path.gguf>                            Lily's own OpenAI-compatible model server (for providers that forward)
//   list                                         registered models and how many providers serve each now
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import type { Command } from "commander";
import { createLilyClient, latestModule, listModuleNames } from "@lily/chain";
import { createClient, modelOfferRoutes } from "@lily/api";
import { LilyError, formatLily, isModelManifest } from "@lily/protocol";
import { parseModuleRef, publishBuiltModule, resolveModel } from "@lily/sdk";
import { StoreClient } from "@lily/store";
import { createLlamaRunner, serveOpenAI } from "@lily/executor";
import { addNetworkFlags, resolveNetwork } from "../config/resolveNetwork.ts";
import { JOB_CREATOR_ROLE, lilyHome } from "../config/home.ts";
import { roleAccount } from "../keys.ts";
import { createOutput } from "../output.ts";
import { intOption, tokenOption } from "../flags.ts";
import { announceReady, runUntilSignal } from "../ready.ts";
import { describeModel } from "../model/modelManifest.ts";

export function registerModel(program: Command): void {
  const model = program.command("model").description("add models to the network, serve a GGUF model, list models");

  addNetworkFlags(
    model
      .command("add <source>")
      .description("register a GGUF model: a local file, or hf:<owner>/<repo>/<file.gguf> (downloaded once, needs internet)")
      .requiredOption(
        "--name <name[@version]>",
        "the model's name in the registry (lower-case letters, digits, dashes), and its version (default 1.0.0; immutable once published)",
      )
      .option("--description <text>", "what the model is (default: the GGUF's general.name)")
      .option("--price-in <lily>", "suggested price per 1,000 prompt tokens", "0.0001")
      .option("--price-out <lily>", "suggested price per 1,000 generated tokens", "0.0002")
      .option("--context <tokens>", "context length (default: the GGUF's own)")
      .option("--embeddings", "the model also serves /v1/embeddings")
      .option("--license <spdx>", "the weights' licence", "unknown")
      .option("--as <role>", "publish from this role's key (default: the job creator's)")
      .option("--key <path>", "keystore file of the publishing account")
      .option("--json", "print JSON"),
  ).action(async (source: string, o: Record<string, string | boolean | undefined>, cmd: Command) => {
    const out = createOutput({ json: o.json === true });
    const net = resolveNetwork(cmd);
    const account = roleAccount(net.home, (o.as as string | undefined) ?? JOB_CREATOR_ROLE, o.key as string | undefined);
    const path = await localModel(source, net.home, (l) => out.progress(l));
    out.progress(`hashing ${path}`);
    const { name, version = "1.0.0" } = parseModuleRef(o.name as string);
    const described = await describeModel({
      path,
      name,
      version,
      description: o.description as string | undefined,
      inputPer1k: tokenOption(o.priceIn as string, "--price-in"),
      outputPer1k: tokenOption(o.priceOut as string, "--price-out"),
      contextLength: o.context ? intOption(o.context as string, "--context") : undefined,
      embeddings: o.embeddings === true,
      license: o.license as string,
    });
    out.progress(`publishing ${name}@${version} (${(described.manifest.sizeBytes / 1e6).toFixed(1)} MB) from ${account.address}`);
    const published = await publishBuiltModule(
      { chain: createLilyClient({ rpcUrl: net.rpcUrl, account, addresses: net }), store: new StoreClient(net.storeUrl) },
      { ...described, artifact: { path } },
    );
    out.line(
      `${published.published ? "added" : "already added"} model ${published.ref}: manifest ${published.manifestCid}, weights ${described.manifest.weights}`,
    );
    out.line(`next: a provider serves it with \`npx lily provider --model ${published.ref}\``);
    out.result({ ...published, weights: described.manifest.weights, sha256: described.manifest.sha256 });
  });

  model
    .command("serve <path>")
    .description("serve a GGUF model as an OpenAI-compatible server (/v1/models, /v1/chat/completions, /v1/completions)")
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--port <port>", "port to listen on (0 = any free port)", "8080")
    .option("--name <name>", "the model id the server answers to (default: the file name)")
    .option("--threads <n>", "CPU threads for generation (default: node-llama-cpp's choice)")
    .action(async (path: string, o: { host: string; port: string; name?: string; threads?: string }) => {
      const out = createOutput();
      const file = resolve(path);
      if (!existsSync(file)) throw new LilyError({ code: "INVALID_INPUT", field: "path", message: `path: no file ${file}` });
      out.progress(`loading ${file}`);
      const runner = await createLlamaRunner({ modelPath: file, ...(o.threads && { threads: intOption(o.threads, "--threads") }) });
      const server = await serveOpenAI(runner, { host: o.host, port: intOption(o.port, "--port"), modelName: o.name ?? basename(file, ".gguf") });
      announceReady(out, { role: "model-server", url: server.url });
      await runUntilSignal(async () => {
        await server.close();
        await runner.close();
      });
    });

  addNetworkFlags(
    model.command("list").description("registered models, their context and prices, and how many providers serve each now").option("--json", "print JSON"),
  ).action(async (o: { json?: boolean }, cmd: Command) => {
    const out = createOutput({ json: o.json });
    const net = resolveNetwork(cmd);
    const chain = createLilyClient({ rpcUrl: net.rpcUrl, addresses: net });
    const store = new StoreClient(net.storeUrl);
    const solver = createClient(net.solverUrl, modelOfferRoutes, { peer: `solver at ${net.solverUrl}` });
    const list = [];
    for (let offset = 0; ; ) {
      const { names, total } = await listModuleNames(chain, { offset, limit: 100 });
      for (const name of names) {
        const entry = await latestModule(chain, { name });
        if (!isModelManifest(await store.getRecord(entry.manifestCid).catch(() => undefined))) continue;
        const { cid, manifest } = await resolveModel(name, { chain, store });
        const { offers } = await solver.listModelOffers({ query: { model: cid } });
        const cheapest = offers[0]?.offer;
        out.line(
          `${`${name}@${manifest.version}`.padEnd(22)} context ${manifest.contextLength}, ${offers.length} provider${offers.length === 1 ? "" : "s"}${
            cheapest ? `, from ${formatLily(cheapest.inputPricePer1k)} in / ${formatLily(cheapest.outputPricePer1k)} out per 1k tokens` : ""
          }`,
        );
        list.push({ name, version: manifest.version, cid, contextLength: manifest.contextLength, providers: offers.length });
      }
      offset += names.length;
      if (names.length === 0 || offset >= total) break;
    }
    if (list.length === 0) out.line("no models registered yet: add one with `npx lily model add <file.gguf> --name <name>`");
    out.result(list);
  });
}

/**
 * A local path for a model source. `hf:<owner>/<repo>/<file>` is downloaded from Hugging Face once
 * into $LILY_HOME/models and reused after; the download lands under its final name only when whole.
 */
async function localModel(source: string, home: string, progress: (line: string) => void): Promise<string> {
  if (!source.startsWith("hf:")) {
    const path = resolve(source);
    if (!existsSync(path)) throw new LilyError({ code: "INVALID_INPUT", field: "source", message: `source: no file ${path}` });
    return path;
  }
  const m = /^hf:([^/\s]+)\/([^/\s]+)\/(.+\.gguf)$/.exec(source);
  if (!m) throw new LilyError({ code: "INVALID_INPUT", field: "source", message: `source: expected hf:<owner>/<repo>/<file.gguf>, got ${source}` });
  const [, owner, repo, file] = m;
  const dir = join(lilyHome(home), "models", owner!, repo!);
  const path = join(dir, basename(file!));
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true });
  const url = `https://huggingface.co/${owner}/${repo}/resolve/main/${file}`;
  progress(`downloading ${url}`);
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new LilyError({
      code: "UNREACHABLE",
      field: "source",
      message: `source: could not reach huggingface.co to download ${source}`,
      hint: "download the file yourself and pass its path",
      cause: e,
    });
  }
  if (!res.ok || !res.body) throw new LilyError({ code: "UNREACHABLE", field: "source", message: `source: huggingface.co answered ${res.status} for ${url}` });
  await pipeline(Readable.fromWeb(res.body as never), createWriteStream(`${path}.part`));
  renameSync(`${path}.part`, path);
  return path;
}
