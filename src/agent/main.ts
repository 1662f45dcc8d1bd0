// vpc-cni-agent: the node's IP address manager (aws-node's ipamd). `run` (the default) initialises the
// node and serves the CNI plugin; `status` prints a running agent's ENIs, addresses and pods;
// `max-pods` computes the kubelet max-pods value for an instance type.

import { loadConfig, formatConfigErrors } from "./config.ts";
import { formatConfigHelp } from "./config-variables.ts";
import { runMaxPodsCli } from "./max-pods-cli.ts";
import { printAgentStatus } from "./status-cli.ts";
import { NodeAgent } from "./node-agent.ts";
import { makeAwsCloud } from "./aws-cloud.ts";
import { makeHost } from "./host.ts";
import { AgentLifecycle } from "./lifecycle.ts";
import { connectAws, initialiseNode, installCni, nodeTypeLimits, openDatastore, startObservability } from "./start-up.ts";
import { startSchedules } from "./schedules.ts";
import { startVpcWatchers } from "./vpc-changes/start.ts";
import { Endpoints, stopOnSignals, type Running } from "./shutdown.ts";
import { createLogger, logFunction } from "./observability/log.ts";
import { createAgentMetrics } from "./observability/metrics.ts";
import { advertiseCustomNetworking, advertiseSecurityGroupsForPods, connectKubernetes, ec2EventReporter } from "./kubernetes.ts";
import type { NodeKube } from "../k8s/node-kube.ts";
import { startRpcServer } from "./rpc/server.ts";
import { agentRpcHandlers } from "./rpc/handlers.ts";
import { realScheduler } from "../time/scheduler.ts";
import { StateLockError } from "./state-lock.ts";

export const AGENT_VERSION = "0.1.0";

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
    case "status": {
      const unknown = rest.filter((a) => a !== "--json");
      if (unknown.length > 0) return usageError(`status: unknown option ${unknown.join(" ")}`);
      return printAgentStatus({ json: rest.includes("--json"), env: process.env, stdout: process.stdout, stderr: process.stderr });
    }
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

/** Wiring only: each step is in start-up.ts, schedules.ts or shutdown.ts, in the order taken here. */
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
  const scheduler = realScheduler;
  const now = () => scheduler.now();
  // The state directory is locked before anything else is touched: a second agent given a directory in
  // use refuses here, its checkpoint and socket untouched (see state-lock.ts).
  let opened: ReturnType<typeof openDatastore>;
  try {
    opened = openDatastore(config, now);
  } catch (err) {
    if (!(err instanceof StateLockError)) throw err;
    process.stderr.write(`vpc-cni-agent: nothing was started: ${err.message}\n`);
    return 1;
  }
  const { datastore, checkpoint, lock } = opened;
  const logger = createLogger({ level: config.observability.logLevel, target: config.observability.logFile });
  for (const w of loaded.warnings) logger.root.warn({}, w);
  const log = logFunction(logger.component("ipamd"));
  const lifecycle = new AgentLifecycle(now());
  const metrics = createAgentMetrics({ version: AGENT_VERSION });
  // The Kubernetes side comes up after the AWS clients (whose EC2 errors it reports) and before the
  // node's initialisation, as aws-node checks the API server before ipamd starts.
  let kube: NodeKube | undefined;
  const { budget, imds, ec2 } = await connectAws(config, metrics, scheduler, ec2EventReporter(() => kube, config.pool.growthPauseMs));
  const host = makeHost(config);

  const running: Running = {};
  const endpoints = new Endpoints();
  stopOnSignals({ lifecycle, running, endpoints, log, logger });

  try {
    const identity = await imds.identity();
    logger.bind({ instanceId: identity.instanceId });
    lock.describe({ pid: process.pid, startedAt: new Date(lifecycle.startedAt).toISOString(), instanceId: identity.instanceId });
    kube = await connectKubernetes({ config, env: process.env, version: AGENT_VERSION, log: logFunction(logger.component("k8s")) });
    const kubernetes = kube;
    let stopSecurityGroupsForPods: (() => void) | undefined;
    running.kubernetes = {
      stop: async () => {
        stopSecurityGroupsForPods?.();
        await kubernetes?.stop();
      },
    };
    const eniConfigs = () => (kubernetes === undefined ? undefined : { choice: () => kubernetes.eniConfigChoice(), synced: () => kubernetes.eniConfigsSynced(), get: (name: string) => kubernetes.eniConfig(name) });
    const agent = new NodeAgent({
      config,
      cloud: makeAwsCloud({
        ec2,
        imds,
        config,
        log,
        eniConfigs,
        reportPlacement: (reason, message) => kubernetes?.recordPlacementProblem(reason, message),
      }),
      host,
      datastore,
      limits: await nodeTypeLimits(ec2, identity.instanceType, config),
      nodeMaxPods: () => kubernetes?.maxPods(),
      scheduler,
      log,
      onError: (fn) => metrics.ipamdError(fn),
    });
    running.agent = agent;
    endpoints.add(...(await startObservability({ config, datastore, agent, budget, lifecycle, metrics, logger, version: AGENT_VERSION, now, eniConfigName: () => kubernetes?.eniConfigName() ?? null })));
    await initialiseNode({ agent, datastore, checkpoint, host, config, metrics, log, lifecycle, now });

    endpoints.add(
      await startRpcServer({
        socketPath: config.paths.socketPath,
        mode: config.paths.socketMode,
        agentVersion: AGENT_VERSION,
        log: logger.component("rpc"),
        onRequest: (e) => metrics.rpcRequest(e),
        handlers: agentRpcHandlers({ agent, datastore, config, lifecycle, budget, now, log }),
      }),
    );
    installCni(config, { ipv4: identity.primaryIp, ipv6: identity.primaryIpv6 }, metrics, log);

    agent.start();
    lifecycle.serving();
    metrics.startup({ seconds: (now() - lifecycle.startedAt) / 1000, success: true, withApiServer: kubernetes?.state === "connected", failureReason: "" });
    log("info", `serving the CNI plugin on ${config.paths.socketPath}`);
    const schedules = startSchedules({ config, datastore, agent, metrics, ec2, vpcId: identity.vpcId, scheduler, log });
    const watchers = startVpcWatchers({ config, agent, datastore, host, imds, ec2, eniConfigs, scheduler, log });
    running.schedules = {
      stop() {
        schedules.stop();
        watchers.stop();
      },
    };
    if (config.eni.podEni && kubernetes !== undefined && kubernetes.state !== "not-configured") {
      stopSecurityGroupsForPods = advertiseSecurityGroupsForPods({ kube: kubernetes, agent, datastore, maxEni: config.pool.maxEni, scheduler, log });
      if (config.eni.customNetworking) {
        const stopCustomNetworking = advertiseCustomNetworking({ kube: kubernetes, scheduler, log });
        const stopSgp = stopSecurityGroupsForPods;
        stopSecurityGroupsForPods = () => {
          stopSgp();
          stopCustomNetworking();
        };
      }
    }
    return await new Promise<number>(() => undefined); // runs until a signal
  } catch (err) {
    const message = (err as Error).message;
    metrics.startup({ seconds: (now() - lifecycle.startedAt) / 1000, success: false, withApiServer: kube?.state === "connected", failureReason: (err as Error).name });
    log("error", `start-up failed: ${message}`);
    process.stderr.write(`vpc-cni-agent: start-up failed: ${message}\n`);
    await running.kubernetes?.stop();
    await endpoints.closeAll();
    logger.close();
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`vpc-cni-agent: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
