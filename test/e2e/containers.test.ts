// The container modules end to end, as a user runs them: a devnet on the real Docker engine
// publishes the four AI modules through the registry (their images into the store by CID), and
// `lily run` sends each a known input through the whole network: matched, opened on chain, run by
// a provider in a container, committed and paid. The answers are known because the test made the
// inputs (a rendered sentence, spoken digits, a mate in one, the NASA astronaut portrait).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLilyClient, dealState, escrowBalance } from "@lily/chain";
import { loadContainerCatalog } from "@lily/modules";
import { parseEther, type Address, type Hex } from "viem";
import { testDocker } from "../support/docker.ts";
import { astronautPng, renderText, speak } from "../modules/support/fixtures.ts";
import { buildImages } from "../../modules/scripts/buildImages.ts";
import { lily, startDevnet, until, type Devnet } from "./lilyProcess.ts";
import { tempDir } from "../support/tempDir.ts";

const docker = await testDocker();
const skip = "skip" in docker ? docker.skip : false;
const dockerHost = "skip" in docker ? "" : docker.endpoint.url;
const work = tempDir("lily-containers-e2e-");
let net: Devnet;

before(async () => {
  if ("skip" in docker) return;
  // Built once (about 3 minutes, as root); found built, or loaded back from the archives, after that.
  await buildImages({ engine: docker.engine });
  net = await startDevnet(["--docker", docker.endpoint.url]);
});
after(() => net?.stop());

async function run(module: string, inputs: string[]): Promise<Record<string, string>> {
  const out = join(work, `${module}-${Date.now()}`);
  const r = await lily(net.home, ["run", module, ...inputs.flatMap((i) => ["-i", i]), "--out", out, "--json"]);
  assert.equal(r.code, 0, `${module}: ${r.stderr}`);
  const files: Record<string, string> = {};
  for (const name of readdirSync(out)) files[name] = readFileSync(join(out, name), "utf8");
  return files;
}

test("the devnet publishes every built container module through the registry", { skip }, async () => {
  const r = await lily(net.home, ["module", "list", "--json"]);
  const listed = JSON.parse(r.stdout) as { name: string; executor: string; prices: { providers: number } }[];
  for (const m of loadContainerCatalog()) {
    const entry = listed.find((l) => l.name === m.manifest.name);
    assert.equal(entry?.executor, "docker", m.ref);
    assert.equal(entry?.prices.providers, 2, `${m.ref} is offered by both providers`);
  }
});

test("chess: Stockfish finds the mate in one, through the network", { skip }, async () => {
  const files = await run("chess", ["position=6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", "depth=10"]);
  const analysis = JSON.parse(files["analysis.json"]!);
  assert.equal(analysis.bestmove, "a1a8");
  assert.deepEqual(analysis.score, { mate: 1 });
});

test("ocr: Tesseract reads a rendered sentence exactly, through the network", { skip }, async () => {
  const sentence = "Lily runs jobs on a network";
  const image = join(work, "sentence.png");
  writeFileSync(image, renderText(sentence, work));
  const files = await run("ocr", [`image=${image}`]);
  assert.equal(files["text.txt"]!.trim(), sentence);
});

test("faces: OpenCV finds the one face in the astronaut portrait, through the network", { skip }, async () => {
  const image = join(work, "astronaut.png");
  writeFileSync(image, astronautPng());
  const files = await run("faces", [`image=${image}`]);
  const faces = JSON.parse(files["faces.json"]!);
  const boxes = Array.isArray(faces) ? faces : faces.faces;
  assert.equal(boxes.length, 1, files["faces.json"]);
});

test("speech-to-text: spoken digits come back with the digits vocabulary, through the network", { skip }, async () => {
  const audio = join(work, "digits.wav");
  writeFileSync(audio, speak("seven", work));
  const files = await run("speech-to-text", [`audio=${audio}`, "vocabulary=digits"]);
  assert.match(JSON.parse(files["transcript.json"]!).text, /seven/);
});

test("verification on a container module: a false challenge of a chess result is re-run by the mediator in its own container, and the provider is paid", {
  skip,
}, async () => {
  const chain = createLilyClient({ rpcUrl: net.network.rpcUrl, addresses: net.network });
  const mediator = net.state.roles["mediator-1"]!.address!;
  const before = await escrowBalance(chain, { account: mediator });
  const r = await lily(net.home, ["run", "chess", "-i", "depth=10", "--policy", "optimistic:60s", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { jobOfferId: Hex; dealId: Hex; provider: Address };
  const c = await lily(net.home, ["challenge", result.jobOfferId.slice(0, 12)]);
  assert.equal(c.code, 0, c.stderr);
  const state = await until(
    "the ruling",
    async () => {
      const s = await dealState(chain, { dealId: result.dealId });
      return s === "settled" || s === "slashed" || s === "timedOut" ? s : undefined;
    },
    90_000,
  );
  assert.equal(state, "settled", "the mediator's re-run agreed with the provider");
  assert.equal(await escrowBalance(chain, { account: mediator }), before + parseEther("1"), "the mediator earned the fee from the false challenger");
  const show = await lily(net.home, ["jobs", "show", result.jobOfferId.slice(0, 12)]);
  assert.match(show.stdout, /Ruled .*providerCorrect=true/);
});

test("replicate:2 on a container module: both providers run Stockfish and commit the same digest", { skip }, async () => {
  const r = await lily(net.home, ["run", "chess", "-i", "depth=10", "--policy", "replicate:2", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { replicas: { provider: Address; state: string }[] };
  assert.deepEqual(
    result.replicas.map((x) => x.state),
    ["settled", "settled"],
    "the two digests agreed, so both replicas were paid",
  );
  assert.equal(new Set(result.replicas.map((x) => x.provider.toLowerCase())).size, 2, "two different providers ran it");
});

test("lily module init --kind docker scaffolds a container module that builds from Debian's packages, publishes and runs", { skip }, async () => {
  const dir = join(work, "greet");
  const init = await lily(net.home, ["module", "init", "greet", "--kind", "docker", "--dir", dir]);
  assert.equal(init.code, 0, init.stderr);
  const pub = await lily(net.home, ["module", "publish", dir, "--json"], { env: { DOCKER_HOST: dockerHost } });
  assert.equal(pub.code, 0, pub.stderr);
  // Providers follow the registry: wait for the new module to be offered, then run it.
  await until("greet to be offered", async () => {
    const show = await lily(net.home, ["module", "show", "greet", "--json"]);
    return show.code === 0 && JSON.parse(show.stdout).prices.providers > 0 ? true : undefined;
  });
  const files = await run("greet", ["who=Ada"]);
  assert.equal(files["greeting.txt"], "hello, Ada\n");
  const again = await lily(net.home, ["module", "build", dir], { env: { DOCKER_HOST: dockerHost } });
  assert.match(again.stderr, /unchanged/, "an unchanged module is not rebuilt");
});
