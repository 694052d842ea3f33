// `lily devnet`: the whole network on one machine. It starts an embedded chain (anvil) or uses
// --rpc-url, deploys the contracts, creates and funds the role keys, and starts the store, the
// solver and the providers, each as its own process, then writes network.json so `lily run` in
// another terminal finds everything. Ctrl-C stops it all. Restarting it resumes the same chain
// and role databases (anvil state is saved to disk); --fresh starts over.
import { Option, type Command } from "commander";
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { formatUnits, parseEther, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { addressesOf, createLilyClient, deployLily, devAccounts, escrowBalance, startAnvil, type Anvil, type LilyDeployment } from "@lily/chain";
import { findOrStartDocker, type DockerSource } from "@lily/executor";
import { LilyError } from "@lily/protocol";
import { StoreClient } from "@lily/store";
import { JOB_CREATOR_ROLE, devnetDockerHome, paths, lilyHome } from "../config/home.ts";
import { readNetwork, writeNetwork, type NetworkConfig } from "../config/network.ts";
import { createOutput } from "../output.ts";
import { intOption, tokenOption } from "../flags.ts";
import { roleAccount } from "../keys.ts";
import { startRole, stopRole, type RoleProcess } from "../devnet/supervisor.ts";
import { publishModules } from "../devnet/publishModules.ts";
import { publishContainerModules } from "../devnet/publishContainerModules.ts";
import { publishModels } from "../devnet/publishModels.ts";
import { TINY_MODEL_PATH } from "@lily/modules/tinyModel";
import { fundRoles } from "../devnet/fundRoles.ts";
import { writeDevnetState } from "../devnet/devnetState.ts";

interface DevnetFlags {
  providers: string;
  mediators: string;
  adversary?: string[];
  mediationTimeout: string;
  mediatorTurn?: string;
  rpcUrl?: string;
  deployerKey?: string;
  chainPort: string;
  solverPort: string;
  storePort: string;
  gatewayPort: string;
  price: string;
  fresh?: boolean;
  signWindow: string;
  docker: string;
  trustDeals?: boolean;
}

async function reusableDeployment(rpcUrl: string, netPath: string, trustDeals: boolean): Promise<LilyDeployment | undefined> {
  if (!existsSync(netPath)) return undefined;
  // A network.json from before the module registry (or LilyLeases) names none: that deployment is replaced.
  const saved = JSON.parse(readFileSync(netPath, "utf8"));
  if (!("registry" in saved) || !("leases" in saved)) return undefined;
  // One that did not record LilyTrustDeals cannot be resumed with --trust-deals: its address was not kept.
  if (trustDeals && !("trustDeals" in saved)) return undefined;
  const net = readNetwork(netPath);
  const client = createLilyClient({ rpcUrl, addresses: net });
  const deployed = async (address: Address) => {
    const code = await client.publicClient.getCode({ address }).catch(() => undefined);
    return code !== undefined && code !== "0x";
  };
  return (await deployed(net.deals)) && (await deployed(net.registry)) && (await deployed(net.leases)) ? addressesOf(net) : undefined;
}

/** The engine for container modules: `auto` finds one or starts a private daemon under the devnet's home; anything else is a DOCKER_HOST. */
function findDevnetDocker(mode: string, home: string, onProgress: (line: string) => void): Promise<DockerSource | { unavailable: string }> {
  const env = mode === "auto" ? process.env : { ...process.env, DOCKER_HOST: mode };
  return findOrStartDocker({ home: devnetDockerHome(home), env, onProgress });
}

/**
 * Start roles in parallel; every one that came up joins `roles` (so it is stopped on failure),
 * and the first failure, if any, is thrown after all have settled.
 */
async function startAll(roles: RoleProcess[], home: string, specs: { name: string; args: string[] }[], env: NodeJS.ProcessEnv = {}): Promise<RoleProcess[]> {
  const settled = await Promise.allSettled(specs.map((s) => startRole(s.name, s.args, paths(home).log(s.name), { env })));
  for (const r of settled) if (r.status === "fulfilled") roles.push(r.value);
  const failed = settled.find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return settled.map((r) => (r as PromiseFulfilledResult<RoleProcess>).value);
}

export function registerDevnet(program: Command): void {
  program
    .command("devnet")
    .description("start the whole network on this machine: chain, contracts, store, solver and providers")
    .option("--providers <n>", "number of resource providers", "2")
    .option("--mediators <n>", "number of mediators (both parties must accept one for policies that mediate)", "1")
    .addOption(
      new Option(
        "--adversary <kind...>",
        "also start adversaries: cheat (a provider that fabricates results), lazy (a provider that opens deals and never delivers), false-challenger (a job creator that challenges every result), collude (two providers that fabricate the same result)",
      ).choices(["cheat", "lazy", "false-challenger", "collude"]),
    )
    .option("--mediation-timeout <seconds>", "how long mediators have to rule before a dispute unwinds (fixed at deployment)", "120")
    .option(
      "--mediator-turn <seconds>",
      "how long the drawn mediator alone may rule before the turn passes to the next (fixed at deployment; default half the mediation timeout)",
    )
    .option("--rpc-url <url>", "use this EVM JSON-RPC endpoint instead of the embedded chain")
    .option("--deployer-key <hex>", "funded key that deploys and funds the roles on --rpc-url (or LILY_DEPLOYER_KEY)")
    .option("--chain-port <port>", "embedded chain port (0 = any free port)", "8545")
    .option("--solver-port <port>", "solver port (0 = any free port)", "7100")
    .option("--store-port <port>", "store port (0 = any free port)", "7101")
    .option("--gateway-port <port>", "inference gateway port (0 = any free port)", "7104")
    .option("--price <lily>", "price per job of the first provider; each next one asks 0.5 LILY more", "1")
    .option("--sign-window <seconds>", "how long a proposed deal waits for both signatures", "30")
    .option("--fresh", "forget the previous devnet's chain and role databases (keys are kept)")
    .option("--trust-deals", "open trust deals in batches on LilyTrustDeals (no storage per deal) rather than on LilyDeals")
    .option(
      "--docker <mode>",
      "container modules: auto (use DOCKER_HOST or the standard socket, else start a private daemon when dockerd is installed and this is root), off, or a DOCKER_HOST value",
      "auto",
    )
    .action(async (o: DevnetFlags, cmd: Command) => {
      const started = Date.now();
      const out = createOutput();
      const home = lilyHome(cmd.optsWithGlobals().home);
      const p = paths(home);
      const nProviders = intOption(o.providers, "--providers");
      // REJECT: before anything is deployed, a turn the contract would refuse
      const timeout = intOption(o.mediationTimeout, "--mediation-timeout");
      if (o.mediatorTurn !== undefined && (intOption(o.mediatorTurn, "--mediator-turn") < 1 || intOption(o.mediatorTurn, "--mediator-turn") > timeout)) {
        throw new LilyError({
          code: "INVALID_INPUT",
          field: "--mediator-turn",
          message: `--mediator-turn: must be between 1 and --mediation-timeout (${timeout}) seconds, got ${o.mediatorTurn}`,
        });
      }
      const basePrice = tokenOption(o.price, "--price");
      const roles: RoleProcess[] = [];
      let anvil: Anvil | undefined;
      let docker: DockerSource | undefined;
      let stopping = false;
      const stopAll = async () => {
        stopping = true;
        for (const r of [...roles].reverse()) await stopRole(r);
        await anvil?.stop();
        await docker?.stop();
      };
      process.once("SIGINT", () => void stopAll().finally(() => process.exit(0)));
      process.once("SIGTERM", () => void stopAll().finally(() => process.exit(0)));

      try {
        if (o.fresh) {
          rmSync(p.network, { force: true });
          rmSync(`${home}/data`, { recursive: true, force: true });
        }
        // 1. The chain.
        let rpcUrl: string;
        let deployerKey: Hex;
        if (o.rpcUrl) {
          rpcUrl = o.rpcUrl;
          const key = o.deployerKey ?? process.env.LILY_DEPLOYER_KEY;
          if (!key)
            throw new LilyError({
              code: "CONFIG",
              field: "--deployer-key",
              message: "--deployer-key: a funded key is needed to deploy on --rpc-url",
              hint: "pass --deployer-key or set LILY_DEPLOYER_KEY",
            });
          deployerKey = key as Hex;
        } else {
          out.progress("starting the embedded chain (anvil)");
          // A block every second besides automining, so draws from future blocks resolve on a quiet devnet.
          anvil = await startAnvil({
            port: intOption(o.chainPort, "--chain-port"),
            statePath: p.chainState,
            blockTimeSeconds: 1,
            onStateSaveError: (err) => out.progress(`warning: ${err.message} (the last save stays; retrying)`),
          });
          rpcUrl = anvil.rpcUrl;
          deployerKey = devAccounts[0]!;
        }
        const deployer = privateKeyToAccount(deployerKey);

        // 2. The contracts, unless this chain already has ours.
        let addresses = await reusableDeployment(rpcUrl, p.network, o.trustDeals === true);
        const resumed = addresses !== undefined;
        if (addresses) out.progress(`reusing contracts at ${addresses.deals}`);
        else {
          // Every role's records refer to the old deployment; blocks in the store stay valid.
          for (const dir of existsSync(`${home}/data`) ? readdirSync(`${home}/data`) : []) {
            if (dir !== "chain" && dir !== "store") rmSync(`${home}/data/${dir}`, { recursive: true, force: true });
          }
          out.progress("deploying contracts");
          addresses = await deployLily({
            rpcUrl,
            deployerKey,
            supply: parseEther("1000000"),
            mediationTimeoutSeconds: intOption(o.mediationTimeout, "--mediation-timeout"),
            ...(o.mediatorTurn !== undefined && { mediatorTurnSeconds: intOption(o.mediatorTurn, "--mediator-turn") }),
            trustDeals: o.trustDeals === true,
          });
        }

        // network.json names LilyTrustDeals only when trust deals are to open there: every role routes by it.
        const trustDeals = o.trustDeals ? addresses.trustDeals : undefined;
        if (!trustDeals) delete addresses.trustDeals;

        // 3. Keys, gas and escrow deposits.
        const jobCreator = roleAccount(home, JOB_CREATOR_ROLE);
        const gatewayAccount = roleAccount(home, "gateway");
        const providerNames = Array.from({ length: nProviders }, (_, i) => `provider-${i + 1}`);
        // A colluding pair is two cheats that fabricate the same bytes, so their digests agree.
        const adversaries = (o.adversary ?? []).flatMap((kind) =>
          kind === "false-challenger"
            ? []
            : kind === "collude"
              ? [1, 2].map((i) => ({ name: `adversary-collude-${i}`, kind: "cheat" }))
              : [{ name: `adversary-${kind}`, kind }],
        );
        const providerAccounts = [...providerNames, ...adversaries.map((a) => a.name)].map((n) => roleAccount(home, n));
        const falseChallenger = o.adversary?.includes("false-challenger") ? roleAccount(home, "adversary-false-challenger") : undefined;
        const mediatorNames = Array.from({ length: intOption(o.mediators, "--mediators") }, (_, i) => `mediator-${i + 1}`);
        const mediatorAccounts = mediatorNames.map((n) => roleAccount(home, n));
        // A resumed devnet keeps every balance as it was; only a new deployment is funded.
        if (!resumed) {
          out.progress(`funding ${nProviders} providers and the job creator`);
          await fundRoles(rpcUrl, addresses, deployer, [
            { account: jobCreator, escrow: parseEther("100"), wallet: parseEther("100"), trust: parseEther("100") },
            // Providers also stake lease collateral for the models they serve.
            ...providerAccounts.map((account) => ({ account, escrow: parseEther("500"), leases: parseEther("100"), trust: parseEther("500") })),
            // The gateway pays leases from its leases escrow and runs /v1/jobs from its deals escrow.
            { account: gatewayAccount, escrow: parseEther("100"), leases: parseEther("100"), trust: parseEther("100") },
            ...mediatorAccounts.map((account) => ({ account, escrow: 0n })),
            ...(falseChallenger ? [{ account: falseChallenger, escrow: parseEther("100") }] : []),
          ]);
        }

        // 4. A Docker engine for container modules: found, or started privately like the chain.
        const dockerFound = o.docker === "off" ? { unavailable: "--docker off" } : await findDevnetDocker(o.docker, home, (l) => out.progress(l));
        if ("unavailable" in dockerFound) out.progress(`container modules will not run: ${dockerFound.unavailable}`);
        else docker = dockerFound;
        // Every role uses the same engine (and the images already loaded into it).
        const roleEnv = docker ? { DOCKER_HOST: docker.endpoint.url } : {};

        // 5. The store and the solver (independent of each other), then the built modules.
        out.progress("starting the store and the solver");
        const chainFlags = ["--chain-id", String(addresses.chainId), "--deals", addresses.deals, "--leases", addresses.leases, "--token", addresses.token];
        if (trustDeals) chainFlags.push("--trust-deals", trustDeals);
        const [store, solver] = await startAll(roles, home, [
          { name: "store", args: ["--home", home, "store", "--port", o.storePort] },
          {
            name: "solver",
            args: [
              "--home",
              home,
              "solver",
              ...chainFlags,
              "--rpc-url",
              rpcUrl,
              "--deploy-block",
              String(addresses.deployBlock),
              "--port",
              o.solverPort,
              "--sign-window",
              o.signWindow,
            ],
          },
        ]);
        out.progress("publishing the built modules through the registry");
        const publishPeers = { chain: createLilyClient({ rpcUrl, account: deployer, addresses }), store: new StoreClient(store!.ready.url!) };
        const publishNotes: string[] = [];
        const modules = await publishModules(publishPeers, publishNotes);
        const models = await publishModels(publishPeers, publishNotes);
        let containersNote: string | undefined;
        if (docker) {
          const containers = await publishContainerModules(publishPeers, docker.endpoint, (l) => out.progress(l), publishNotes);
          if ("published" in containers) Object.assign(modules, containers.published);
          else containersNote = containers.skipped;
        } else containersNote = "no Docker engine (see --docker)";
        const net: NetworkConfig = {
          rpcUrl,
          ...addresses,
          solverUrl: solver!.ready.url!,
          storeUrl: store!.ready.url!,
          modules,
          mediators: mediatorAccounts.map((a) => a.address),
        };
        writeNetwork(p.network, net);

        // 6. Everyone who only needs network.json, all at once.
        const resources = ["--cpu", "2", "--memory-mb", "2048"];
        const rest = [
          ...providerNames.map((name, i) => ({
            name,
            args: [
              "--home",
              home,
              "provider",
              "--name",
              name,
              "--price",
              formatUnits(basePrice + (BigInt(i) * parseEther("1")) / 2n, 18),
              ...resources,
              // Every provider serves the devnet's model too, under leases.
              ...Object.keys(models).flatMap((ref) => ["--model", ref]),
            ],
          })),
          // Adversaries undercut everyone, so the solver picks them first.
          ...adversaries.map((a) => ({
            name: a.name,
            args: ["--home", home, "provider", "--name", a.name, "--adversary", a.kind, "--price", formatUnits(basePrice / 2n, 18), ...resources],
          })),
          // Mediators audit lease answers on their own copy of the model.
          ...mediatorNames.map((name) => ({
            name,
            args: ["--home", home, "mediator", "--name", name, ...(Object.keys(models).length ? ["--model", TINY_MODEL_PATH] : [])],
          })),
          ...(falseChallenger ? [{ name: "adversary-false-challenger", args: ["--home", home, "false-challenger"] }] : []),
        ];
        out.progress(`starting ${rest.map((r) => r.name).join(", ")}`);
        await startAll(roles, home, rest, roleEnv);

        // 7. The inference gateway, which names the first mediator as its auditor.
        const auditor = roles.find((r) => r.name === mediatorNames[0]);
        out.progress("starting the inference gateway");
        const [gateway] = await startAll(roles, home, [
          {
            name: "gateway",
            args: [
              "--home",
              home,
              "gateway",
              "--port",
              o.gatewayPort,
              // The studio offers the job creator's funded account to a browser with no wallet.
              "--dev-account-key",
              p.key(JOB_CREATOR_ROLE),
              ...(auditor?.ready.url ? ["--mediator-url", auditor.ready.url, "--audit", "10%", "--mediation-fee", "1"] : []),
            ],
          },
        ]);
        writeNetwork(p.network, { ...net, gatewayUrl: gateway!.ready.url! });

        writeDevnetState(home, {
          pid: process.pid,
          chain: { rpcUrl, embedded: !o.rpcUrl, pid: anvil?.pid },
          roles: Object.fromEntries(
            roles.map((r) => [r.name, { pid: r.child.pid!, url: r.ready.url, address: r.ready.address, log: r.logPath, args: r.args }]),
          ),
          jobCreator: jobCreator.address,
        });
        for (const r of roles) {
          r.child.once("exit", (code, signal) => {
            if (!stopping) out.line(`! ${r.name} exited (${signal ?? `code ${code}`}); its log: ${r.logPath}`);
          });
        }

        out.line(`Lily devnet is up (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
        out.line(`  chain        ${rpcUrl}${anvil ? " (embedded anvil)" : ""}, chain id ${addresses.chainId}`);
        out.line(`  contracts    token ${addresses.token}, deals ${addresses.deals}, registry ${addresses.registry}, leases ${addresses.leases}`);
        out.line(
          `  docker       ${docker ? `${docker.endpoint.url}${docker.started ? " (private daemon, stopped with the devnet)" : ""}` : "none: container modules are not offered"}`,
        );
        out.line(`  store        ${store.ready.url}`);
        out.line(`  solver       ${solver.ready.url}`);
        for (const r of roles.filter((r) => /^(provider|adversary|mediator)-/.test(r.name)))
          out.line(`  ${r.name.padEnd(12)} ${r.ready.address}  (log ${r.logPath})`);
        const jcEscrow = await escrowBalance(createLilyClient({ rpcUrl, addresses }), { account: jobCreator.address });
        out.line(`  job creator  ${jobCreator.address}, ${formatUnits(jcEscrow, 18)} LILY in escrow`);
        out.line(`  modules      ${Object.keys(modules).join(", ")}`);
        out.line(
          `  models       ${Object.keys(models).join(", ") || "none"}${Object.keys(models).length ? " (random weights: its text is noise; add a real one with `npx lily model add`)" : ""}`,
        );
        out.line(`  gateway      ${gateway!.ready.url}/v1  (OpenAI-compatible; \`npx lily keys create\` makes an API key)`);
        out.line(`  studio       ${gateway!.ready.url}/  (the web app; sign in with the job creator's account)`);
        if (containersNote) out.line(`               container modules not offered: ${containersNote}`);
        for (const n of publishNotes) out.line(`               ${n}`);
        out.line(`  home         ${home}`);
        out.line("");
        out.line('Try, in another terminal:  npx lily run cowsay@1.0.0 -i message="hello"');
        if (Object.keys(models).length) {
          out.line("                           npx lily keys create      # then, with any OpenAI client:");
          out.line(
            `                           curl ${gateway!.ready.url}/v1/chat/completions -H "authorization: Bearer <key>" -d '{"model":"tiny","messages":[{"role":"user","content":"hi"}]}'`,
          );
        }
        if (modules["chess@1.0.0"]) out.line('                           npx lily run chess -i position="6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1"');
        out.line("Press Ctrl-C to stop.");
        await new Promise(() => {});
      } catch (e) {
        await stopAll();
        throw e;
      }
    });
}
