// vpc-cni-agent: the node's IP address manager (aws-node's ipamd). `run` (the default) initialises the
// node and serves the CNI plugin; `status` prints a running agent's ENIs, addresses and pods;
// `max-pods` computes the kubelet max-pods value for an instance type.

import { randomInt } from "node:crypto";
import { mkdirSync } from "node:fs";
import { request } from "node:http";
import { dirname } from "node:path";
import { loadConfig, formatConfigErrors, type AgentConfig } from "./config.ts";
import { formatConfigHelp } from "./config-variables.ts";
import { runMaxPodsCli } from "./max-pods-cli.ts";
import { maxPods } from "./max-pods.ts";
import { Datastore } from "./datastore/datastore.ts";
import { CheckpointFile } from "./datastore/checkpoint.ts";
import { restoreCheckpoint } from "./datastore/restore.ts";
import { NodeAgent, type Log as AgentLog } from "./node-agent.ts";
import { makeAwsCloud } from "./aws-cloud.ts";
import { makeHost } from "./host.ts";
import { createLogger, type Log } from "./observability/log.ts";
import { createAgentMetrics, startMetricsServer } from "./observability/metrics.ts";
import { startIntrospectionServer } from "./observability/introspection.ts";
import { introspectionSource } from "./introspection-source.ts";
import { startRpcServer } from "./rpc/server.ts";
import { agentRpcHandlers } from "./rpc/handlers.ts";
import { AgentLifecycle } from "./lifecycle.ts";
import { RequestBudget } from "../aws/request-budget.ts";
import { Imds } from "../aws/imds.ts";
import { createEc2Client, ec2Context } from "../aws/ec2-client.ts";
import { cleanUpLeakedEnis } from "../aws/eni-api.ts";
import { loadInstanceLimits } from "../aws/instance-limits.ts";
import { describeInstanceLimits } from "../aws/instance-type-info.ts";
import { formatAgentStatus } from "./status-table.ts";
import { installPlugin, pluginSource, writeConflist } from "./cni-install.ts";

export const AGENT_VERSION = "0.1.0";
const LEAKED_ENI_INTERVAL_MS = 3600_000;
const LEAKED_ENI_JITTER_MS = 300_000;

const USAGE = `vpc-cni-agent ${AGENT_VERSION}: the node's IP address manager for VPC-native pod networking (aws-node's ipamd).

Usage:
  vpc-cni-agent [run]            initialise the node and serve the CNI plugin (configured by environment)
  vpc-cni-agent status [--json]  ENIs, addresses and pods of the agent running on this node
  vpc-cni-agent max-pods --instance-type T [--prefix-delegation] [--custom-networking] [--show-max-allowed]
  vpc-cni-agent --help           this text and every configuration variable

Runs as root in the node's network namespace, with the node's AWS credentials (instance role).
`;

async function main(argv: string[]): Promise<number> {
  const [command = "run", ...rest] = argv;
  switch (command) {
    case "--help":
    case "-h":
    case "help":
      process.stdout.write(`${USAGE}\nConfiguration (environment variables):\n\n${formatConfigHelp(100)}\n`);
      return 0;
    case "--version":
      process.stdout.write(`${AGENT_VERSION}\n`);
      return 0;
    case "max-pods":
      return runMaxPodsCli(rest, process.stdout, process.stderr);
    case "status":
      return status(rest);
    case "run":
      if (rest.length > 0) return usageError(`run takes no arguments (configuration is by environment), got: ${rest.join(" ")}`);
      return run();
    default:
      return usageError(`unknown command '${command}'`);
  }
}

function usageError(message: string): number {
  process.stderr.write(`vpc-cni-agent: ${message}\n\n${USAGE}`);
  return 2;
}

async function run(): Promise<number> {
  const loaded = loadConfig(process.env);
  if (!loaded.ok) {
    process.stderr.write(`vpc-cni-agent: nothing was started: ${formatConfigErrors(loaded.errors)}\n`);
    return 1;
  }
  const config = loaded.config;
  if (process.getuid?.() !== 0) {
    process.stderr.write("vpc-cni-agent: needs root: it configures routes, rules and iptables on the node\n");
    return 1;
  }
  const logger = createLogger({ level: config.observability.logLevel, target: config.observability.logFile });
  const root = logger.root;
  for (const w of loaded.warnings) root.warn({}, w);
  const lifecycle = new AgentLifecycle(Date.now());
  const started = lifecycle.startedAt;

  const metrics = createAgentMetrics({ version: AGENT_VERSION });
  const budget = new RequestBudget({ growthPauseMs: config.pool.growthPauseMs });
  const imds = new Imds();
  const client = await createEc2Client({ regionFromImds: () => imds.region() });
  const ec2 = ec2Context(client, budget, {
    observer: {
      onCall: (e) => {
        metrics.ec2Call({ api: e.api, durationMs: e.latencyMs, errorCode: e.errorCode ?? null, ...(e.httpStatus === undefined ? {} : { httpStatus: e.httpStatus }) });
        if (e.budgetWaitMs > 0) metrics.ec2BudgetWait({ api: e.api, seconds: e.budgetWaitMs / 1000 });
      },
    },
  });
  const log = componentLog(logger.component("ipamd"));
  const cloud = makeAwsCloud({ ec2, imds, config, log });
  const host = makeHost(config);
  // The state directory is the agent's to make (aws-node's is a hostPath it creates on first start).
  mkdirSync(dirname(config.paths.backingStore), { recursive: true, mode: 0o755 });
  const checkpoint = new CheckpointFile(config.paths.backingStore);
  const datastore = new Datastore({
    now: Date.now,
    cooldownMs: config.pool.ipCooldownMs,
    prefixDelegation: config.pool.prefixDelegation,
    persist: (d) => checkpoint.write(d),
  });

  let agent: NodeAgent | undefined;
  let stopLeakedEniCleanup: (() => void) | undefined;
  const endpoints: { close(): Promise<void> }[] = [];
  const shutdown = async (signal: string) => {
    if (!lifecycle.shuttingDown(signal)) return;
    log("info", `received ${signal}: no more EC2 changes; state stays as it is`);
    stopLeakedEniCleanup?.();
    await agent?.stop();
    for (const e of endpoints.reverse()) await e.close().catch(() => undefined);
    logger.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));

  try {
    const identity = await imds.identity();
    const table = loadInstanceLimits();
    const limits = table.get(identity.instanceType) ?? (await describeInstanceLimits(ec2, identity.instanceType));
    if (!limits) throw new Error(`instance type ${identity.instanceType} is neither in the instance limits table nor described by EC2`);
    const pods = maxPods({ limits, prefixDelegation: config.pool.prefixDelegation, customNetworking: config.eni.customNetworking, showMaxAllowed: true, cpus: 1 });
    if (!pods.ok) throw new Error(pods.error);

    agent = new NodeAgent({
      config,
      cloud,
      host,
      datastore,
      limits: { enis: limits.enis, ipv4PerEni: limits.ipv4PerEni, trunking: limits.trunking, maxPods: pods.maxAllowed },
      now: Date.now,
      log,
      onError: (fn) => metrics.ipamdError(fn),
    });
    const theAgent = agent;
    const source = introspectionSource({ config, datastore, agent: theAgent, budget, version: AGENT_VERSION, health: () => ({ status: lifecycle.status, detail: lifecycle.detail, startedAt: started }) });
    if (config.observability.introspectionBind) {
      endpoints.push(await startIntrospectionServer({ bind: config.observability.introspectionBind, source, log: logger.component("introspection") }));
    }
    if (config.observability.metricsBind) {
      endpoints.push(await startMetricsServer({ bind: config.observability.metricsBind, metrics, log: logger.component("metrics") }));
    }

    const initDone = metrics.actionStarted("nodeInit");
    await theAgent.init();
    const restored = await restoreCheckpoint(datastore, checkpoint, {
      hostLinkExists: (name, suffix) => host.vethExists(name, suffix),
      vethPrefix: config.hostNetwork.vethPrefix,
    });
    initDone();
    metrics.nodeInitialization({ seconds: (Date.now() - started) / 1000, success: true });
    log("info", `checkpoint ${restored.fresh ? "absent (new node)" : "restored"}`, {
      adopted: restored.adopted.length,
      pruned: restored.pruned.map((p) => `${p.address} (${p.vethName})`),
      dropped: restored.dropped.map((d) => `${d.address}: ${d.reason}`),
    });

    const rpc = await startRpcServer({
      socketPath: config.paths.socketPath,
      mode: config.paths.socketMode,
      agentVersion: AGENT_VERSION,
      log: logger.component("rpc"),
      onRequest: (e) => metrics.rpcRequest(e),
      handlers: agentRpcHandlers({ agent: theAgent, datastore, config, lifecycle, budget, now: Date.now, log }),
    });
    endpoints.push({ close: () => rpc.close() });
    try {
      const installed = installPlugin(pluginSource(process.env), config.paths.cniBinDir);
      const written = writeConflist(config);
      log("info", `installed ${installed} and ${written}`);
    } catch (err) {
      // The agent still serves (pods already on the node keep working); the runtime just cannot
      // start new pods until the plugin is in place, which the log and status make plain.
      metrics.ipamdError("installCNI");
      log("error", `the CNI plugin was not installed: ${(err as Error).message}`);
    }

    theAgent.start();
    lifecycle.serving();
    metrics.startup({ seconds: (Date.now() - started) / 1000, success: true, withApiServer: false, failureReason: "" });
    log("info", `serving the CNI plugin on ${config.paths.socketPath}`);

    const statsTimer = setInterval(() => publishPoolStats(metrics, datastore, theAgent, config.pool.maxEni), 5_000);
    statsTimer.unref();
    if (!config.eni.disableLeakedEniCleanup) {
      stopLeakedEniCleanup = scheduleLeakedEniCleanup(() => cleanUpLeakedEnis(ec2, { vpcId: identity.vpcId, clusterName: config.eni.clusterName || undefined }), log);
    }
    return await new Promise<number>(() => undefined); // runs until a signal
  } catch (err) {
    const message = (err as Error).message;
    metrics.startup({ seconds: (Date.now() - started) / 1000, success: false, withApiServer: false, failureReason: (err as Error).name });
    log("error", `start-up failed: ${message}`);
    process.stderr.write(`vpc-cni-agent: start-up failed: ${message}\n`);
    for (const e of endpoints.reverse()) await e.close().catch(() => undefined);
    logger.close();
    return 1;
  }
}

function componentLog(l: Log): AgentLog {
  return (level, msg, fields) => l[level](fields ?? {}, msg);
}

function publishPoolStats(metrics: ReturnType<typeof createAgentMetrics>, datastore: Datastore, agent: NodeAgent, maxEni: number | null): void {
  const snap = datastore.snapshot();
  const limits = agent.poolLimits();
  // As the reference: min(MAX_ENI, the type's limit) minus the ENIs the agent does not manage.
  const usableEnis = Math.min(maxEni ?? limits.enis, limits.enis) - limits.unmanagedEnis;
  const perCidr: Record<string, number> = {};
  const perEni: Record<string, number> = {};
  for (const e of snap.enis) {
    perEni[e.id] = e.assigned;
    for (const c of e.cidrs) perCidr[c.cidr] = c.assigned;
  }
  metrics.poolStats({
    enis: snap.enis.length,
    maxEnis: usableEnis,
    maxIps: (limits.ipv4PerEni - 1) * (snap.prefixDelegation ? 16 : 1) * usableEnis,
    totalIps: snap.stats.totalIPs,
    assignedIps: snap.stats.assignedIPs,
    prefixes: snap.stats.totalPrefixes,
    cooldownIps: snap.stats.cooldownIPs,
    waitingAllocations: agent.pool.waiting,
    assignedPerCidr: perCidr,
    assignedPerEni: perEni,
  });
}

/**
 * The reference's schedule: a first run after a random 0-300 s, then hourly plus the same jitter, so
 * nodes do not scan together. Returns a stop function (SIGTERM: no new EC2 mutation starts).
 */
function scheduleLeakedEniCleanup(cleanUp: () => Promise<{ deleted: unknown[] } | unknown>, log: AgentLog): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(run, ms);
    timer.unref();
  };
  const run = async () => {
    if (stopped) return;
    try {
      const result = (await cleanUp()) as { deleted?: unknown[] };
      if (result.deleted && result.deleted.length > 0) log("info", `leaked-ENI clean-up deleted ${result.deleted.length} ENIs`);
    } catch (err) {
      log("warn", `leaked-ENI clean-up failed: ${(err as Error).message}`);
    }
    arm(LEAKED_ENI_INTERVAL_MS + randomInt(LEAKED_ENI_JITTER_MS));
  };
  arm(randomInt(LEAKED_ENI_JITTER_MS));
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}

async function status(args: string[]): Promise<number> {
  const json = args.includes("--json");
  const unknown = args.filter((a) => a !== "--json");
  if (unknown.length > 0) return usageError(`status: unknown option ${unknown.join(" ")}`);
  const loaded = loadConfig(process.env);
  if (!loaded.ok) {
    process.stderr.write(`vpc-cni-agent: invalid configuration:\n${formatConfigErrors(loaded.errors)}\n`);
    return 1;
  }
  const bind = loaded.config.observability.introspectionBind;
  if (!bind) {
    process.stderr.write("vpc-cni-agent: introspection is disabled (DISABLE_INTROSPECTION), so status cannot be read\n");
    return 1;
  }
  try {
    const [enis, pool] = await Promise.all([getJson(bind, "/v1/enis"), getJson(bind, "/v1/pool")]);
    if (json) process.stdout.write(JSON.stringify({ enis, pool }, null, 2) + "\n");
    else process.stdout.write(formatAgentStatus(enis as never, pool as never) + "\n");
    return 0;
  } catch (err) {
    process.stderr.write(`vpc-cni-agent: no agent answers on ${describeBind(bind)}: ${(err as Error).message}\n`);
    return 1;
  }
}

function describeBind(bind: NonNullable<AgentConfig["observability"]["introspectionBind"]>): string {
  return bind.kind === "unix" ? `unix:${bind.path}` : `${bind.host}:${bind.port}`;
}

function getJson(bind: NonNullable<AgentConfig["observability"]["introspectionBind"]>, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const target = bind.kind === "unix" ? { socketPath: bind.path } : { host: bind.host === "" ? "127.0.0.1" : bind.host, port: bind.port };
    const req = request({ ...target, path, timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => {
        try {
          resolve(JSON.parse(body));
        } catch {
          reject(new Error(`${path} did not answer JSON`));
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`vpc-cni-agent: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
