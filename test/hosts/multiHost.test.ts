// Lily across hosts: the chain, the store, two solvers, two providers and a job creator each in a
// Linux network namespace of its own (its own loopback, one veth into a private bridge, an address
// on 10.77.0.0/24), every role a real `lily` process started the way an operator would on
// separate machines, talking only over that network. It checks that a host cannot reach another
// over 127.0.0.1, runs three jobs across the hosts (`lily run` through one solver, `lily run`
// posting to both solvers, the SDK posting to both), and that with two solvers proposing for the
// same job offer exactly one deal opens: the chain refuses the other without the job creator's
// signature over exactly its terms, and refuses to open the opened one again.
// Namespaces need root (or CAP_SYS_ADMIN and CAP_NET_ADMIN): elsewhere the test skips, saying why.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { anvilBinary } from "@lily/chain";
import { tempDir } from "../support/tempDir.ts";
import { createHostNetwork, namespacesUnavailable, type HostNetwork } from "./netns.ts";

const LILY = fileURLToPath(new URL("../../packages/cli/bin/lily.js", import.meta.url));
const script = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));
const NODE = process.execPath;
const ENV = { LILY_LOG_LEVEL: "warn" };
const HOSTS = ["chain", "store", "solver-a", "solver-b", "provider-1", "provider-2", "job-creator"];
// Different sign windows give the two solvers' proposals for one job offer different openBy, so different deals.
const SIGN_WINDOW = { "solver-a": "20", "solver-b": "25" } as const;

let net: HostNetwork | undefined;
after(async () => {
  await net?.destroy();
});

/** A `node -e` program that fetches each URL and prints, per URL, "ok <status>" or the error's code. */
const probe = (urls: string[]) =>
  `Promise.all(${JSON.stringify(urls)}.map((u) => fetch(u, { signal: AbortSignal.timeout(3000) }).then((r) => "ok " + r.status, (e) => e.cause?.code ?? e.name))).then((r) => console.log(JSON.stringify(r)))`;

test("roles on separate hosts (network namespaces) run jobs across them, with two solvers", { timeout: 300_000 }, async (t) => {
  const unavailable = await namespacesUnavailable();
  if (unavailable) {
    t.skip(`network namespaces cannot be made here: ${unavailable}`);
    return;
  }
  const marks: [string, number][] = [];
  const t0 = Date.now();
  const mark = (what: string) => marks.push([what, Date.now() - t0]);

  net = await createHostNetwork(HOSTS);
  const ip = (h: string) => net!.hosts[h]!.ip;
  const rpcUrl = `http://${ip("chain")}:8545`;
  const storeUrl = `http://${ip("store")}:7101`;
  const solverUrl = (h: "solver-a" | "solver-b") => `http://${ip(h)}:7100`;
  // Each host its own LILY_HOME, as on separate machines: nothing shared but the network.
  const home = Object.fromEntries(HOSTS.map((h) => [h, tempDir(`lily-host-${h}-`)]));
  mark("namespaces made");

  // The chain: anvil listening on its host's address only.
  const chain = net.spawn("chain", anvilBinary(), ["--host", ip("chain"), "--port", "8545", "--block-time", "1", "--mixed-mining"]);
  const store = net.spawn("store", NODE, [LILY, "--home", home.store!, "store", "--host", ip("store"), "--port", "7101"], { env: ENV });
  await Promise.all([chain.waitFor(/Listening on/), store.waitFor(/store ready on (\S+)/)]);
  assert.match(store.output(), new RegExp(`store ready on ${storeUrl.replace(/\./g, "\\.")}`));
  mark("chain and store up");

  // The operator (here on the job creator's host) deploys, funds and publishes over the network.
  const providers = ["provider-1", "provider-2"];
  const setup = await net.exec(
    "job-creator",
    NODE,
    [
      script("operator.ts"),
      JSON.stringify({
        rpcUrl,
        storeUrl,
        solverUrl: solverUrl("solver-a"),
        jobCreatorHome: home["job-creator"],
        providers: providers.map((name) => ({ home: home[name], name })),
      }),
    ],
    { env: ENV },
  );
  assert.equal(setup.code, 0, setup.stderr);
  const deployed = JSON.parse(setup.stdout.trim().split("\n").at(-1)!);
  assert.ok(deployed.modules["cowsay@1.0.0"], "cowsay published");
  mark("contracts deployed, roles funded, modules published");

  const solvers = (["solver-a", "solver-b"] as const).map((h) =>
    net!.spawn(
      h,
      NODE,
      [
        LILY,
        "--home",
        home[h]!,
        "solver",
        "--chain-id",
        String(deployed.chainId),
        "--deals",
        deployed.deals,
        "--leases",
        deployed.leases,
        "--token",
        deployed.token,
        "--rpc-url",
        rpcUrl,
        "--deploy-block",
        String(deployed.deployBlock),
        "--host",
        ip(h),
        "--port",
        "7100",
        "--sign-window",
        SIGN_WINDOW[h],
      ],
      { env: ENV },
    ),
  );
  await Promise.all(solvers.map((s) => s.waitFor(/solver ready on/)));
  mark("two solvers up");

  // Each provider offers to both solvers; network.json names solver-a, --also-solver adds solver-b.
  const provs = providers.map((name, i) =>
    net!.spawn(
      name,
      NODE,
      [
        LILY,
        "--home",
        home[name]!,
        "provider",
        "--name",
        name,
        "--docker",
        "off",
        "--cpu",
        "2",
        "--memory-mb",
        "2048",
        "--price",
        i === 0 ? "1" : "1.5",
        "--metrics-host",
        ip(name),
        "--metrics-port",
        "9100",
        "--also-solver",
        solverUrl("solver-b"),
      ],
      { env: ENV },
    ),
  );
  await Promise.all(provs.map((p) => p.waitFor(/ready/)));
  mark("two providers up");

  await t.test("a host reaches the others over the test network, and nothing of theirs over its own 127.0.0.1", async () => {
    const fromJc = await net!.exec("job-creator", NODE, [
      "-e",
      probe([
        `${solverUrl("solver-a")}/v1/health`,
        `${storeUrl}/v1/health`,
        `http://${ip("provider-1")}:9100/status`,
        "http://127.0.0.1:7100/v1/health",
        "http://127.0.0.1:7101/v1/health",
        "http://127.0.0.1:8545",
      ]),
    ]);
    assert.deepEqual(JSON.parse(fromJc.stdout), ["ok 200", "ok 200", "ok 200", "ECONNREFUSED", "ECONNREFUSED", "ECONNREFUSED"]);
    // The provider's own host reaches its metrics on its address; the solver it uses is not on its loopback.
    const fromProvider = await net!.exec("provider-1", NODE, [
      "-e",
      probe([`http://${ip("provider-1")}:9100/status`, "http://127.0.0.1:7100/v1/health", "http://127.0.0.1:8545"]),
    ]);
    assert.deepEqual(JSON.parse(fromProvider.stdout), ["ok 200", "ECONNREFUSED", "ECONNREFUSED"]);
  });

  const jcHome = home["job-creator"]!;
  const lilyRun = async (message: string, extra: string[] = []) => {
    const started = Date.now();
    const r = await net!.exec("job-creator", NODE, [LILY, "--home", jcHome, "run", "cowsay@1.0.0", "-i", `message=${message}`, "--json", ...extra], {
      env: ENV,
      cwd: jcHome,
    });
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
    return { ...JSON.parse(r.stdout), ms: Date.now() - started };
  };

  await t.test("`lily run` on the job creator's host, through one solver", async () => {
    const r = await lilyRun("across-hosts");
    assert.match(r.stdout, /< across-hosts >/);
    assert.ok(deployed.providers.map((p: string) => p.toLowerCase()).includes(r.provider.toLowerCase()), "run by one of the providers");
    mark(`job 1 (lily run, solver-a): ${r.ms} ms`);
  });

  await t.test("`lily run --also-solver`: the job offer goes to both solvers, one deal opens", async () => {
    const r = await lilyRun("two-solvers", ["--also-solver", solverUrl("solver-b")]);
    assert.match(r.stdout, /< two-solvers >/);
    mark(`job 2 (lily run, both solvers): ${r.ms} ms`);
  });

  await t.test("the SDK posts to both solvers; the chain opens one deal for the job offer and refuses the other", async () => {
    const r = await net!.exec(
      "job-creator",
      NODE,
      [
        script("sdkJob.ts"),
        JSON.stringify({ home: jcHome, solverUrls: [solverUrl("solver-a"), solverUrl("solver-b")], message: "from-the-sdk", outDir: join(jcHome, "sdk-out") }),
      ],
      { env: ENV, cwd: jcHome },
    );
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    mark(`job 3 (SDK, both solvers): ${out.ms} ms`);
    assert.match(out.stdout, /< from-the-sdk >/);
    assert.equal(out.settlement, "settled");

    // Both solvers proposed for this job offer, each on its own.
    const bySolver = new Set(out.proposed.map((d: { solver: string }) => d.solver));
    assert.deepEqual([...bySolver].sort(), [solverUrl("solver-a"), solverUrl("solver-b")].sort(), JSON.stringify(out.proposed));
    // Exactly one of them is on chain: the one the job creator signed and got its result from.
    const onChain = Object.entries(out.states as Record<string, string>).filter(([, s]) => s !== "none");
    assert.deepEqual(
      onChain.map(([id]) => id.toLowerCase()),
      [out.dealId.toLowerCase()],
    );
    assert.equal(onChain[0]![1], "settled");
    // Every other proposal: the chain refuses it, naming the job creator whose signature it lacks.
    assert.ok(out.attempts.length >= 1, "a second deal was proposed");
    for (const a of out.attempts) {
      assert.equal(a.refused.error, "DealsInvalidSignature", JSON.stringify(a));
      assert.equal(a.refused.args.signer.toLowerCase(), out.jobCreator.toLowerCase());
      assert.equal(out.states[a.dealId], "none");
    }
    // And the deal that opened cannot open again.
    assert.equal(out.reopen.error, "DealsAlreadyOpened", JSON.stringify(out.reopen));
    t.diagnostic(`proposals for the SDK's job offer: ${JSON.stringify(out.proposed)}`);
  });

  // Every role is still up after the jobs: none died on the way.
  for (const p of [chain, store, ...solvers, ...provs]) assert.equal(p.child.exitCode, null, `${p.name} exited:\n${p.output().slice(-2000)}`);
  for (const [what, ms] of marks) t.diagnostic(`${what} (at ${ms} ms)`);
});
