// The steps that bring the agent up, in the order `run` takes them: its AWS clients (one request
// budget, every call counted in the metrics), the datastore on its checkpoint, the node's limits, the
// introspection and metrics endpoints (up while the node initialises, so a slow start can be looked
// at), the node's initialisation with the checkpoint restored, and the plugin's installation.

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { customNetworkingOn, type AgentConfig } from "./config.ts";
import { CheckpointFile } from "./datastore/checkpoint.ts";
import { Datastore } from "./datastore/datastore.ts";
import { restoreCheckpoint } from "./datastore/restore.ts";
import { lockStateDirectories, type StateLock } from "./state-lock.ts";
import type { AgentLifecycle } from "./lifecycle.ts";
import { maxPods, supportsPrefixDelegation } from "./max-pods.ts";
import type { AgentHost, NodeAgent, TypeLimits } from "./node-agent.ts";
import type { Log } from "../log/log.ts";
import { introspectionSource } from "./introspection-source.ts";
import { startIntrospectionServer } from "./observability/introspection.ts";
import type { AgentLogger } from "./observability/log.ts";
import { startMetricsServer, type AgentMetrics } from "./observability/metrics.ts";
import { installPlugins, pluginSource, writeConflist, type NodeAddresses } from "./cni-install.ts";
import { createEc2Client, ec2Context, type Ec2, type Ec2CallEvent } from "../aws/ec2-client.ts";
import { Imds } from "../aws/imds.ts";
import { loadInstanceLimits } from "../aws/instance-limits.ts";
import { describeInstanceLimits } from "../aws/instance-type-info.ts";
import { RequestBudget } from "../aws/request-budget.ts";
import type { Clock } from "../time/scheduler.ts";

/** Something the agent opened and closes on the way out. */
export interface Endpoint {
  close(): Promise<void>;
}

export interface AwsClients {
  readonly budget: RequestBudget;
  readonly imds: Imds;
  readonly ec2: Ec2;
}

/** `onCall` also sees every EC2 answer (the events the agent raises on its pod). */
export async function connectAws(config: AgentConfig, metrics: AgentMetrics, clock: Clock, onCall?: (e: Ec2CallEvent) => void): Promise<AwsClients> {
  const budget = new RequestBudget({ growthPauseMs: config.pool.growthPauseMs, clock });
  const imds = new Imds({ clock });
  const client = await createEc2Client({ regionFromImds: () => imds.region() });
  const ec2 = ec2Context(client, budget, {
    clock,
    observer: {
      onCall: (e) => {
        metrics.ec2Call({ api: e.api, durationMs: e.latencyMs, errorCode: e.errorCode ?? null, ...(e.httpStatus === undefined ? {} : { httpStatus: e.httpStatus }) });
        if (e.budgetWaitMs > 0) metrics.ec2BudgetWait({ api: e.api, seconds: e.budgetWaitMs / 1000 });
        onCall?.(e);
      },
    },
  });
  return { budget, imds, ec2 };
}

/**
 * The datastore, every change written to the checkpoint before it is applied. The state directory (and
 * the checkpoint's and the socket's, where they are set elsewhere) is locked first: a second agent given
 * a directory in use gets a StateLockError here, before its checkpoint is read, pruned or rewritten and
 * before the socket is touched. The lock is held for the process's life (see state-lock.ts).
 */
export function openDatastore(config: AgentConfig, now: () => number): { datastore: Datastore; checkpoint: CheckpointFile; lock: StateLock } {
  const locks = lockStateDirectories([config.paths.stateDir, dirname(config.paths.backingStore), dirname(config.paths.socketPath)]);
  // The state directory is the agent's to make (aws-node's is a hostPath it creates on first start).
  mkdirSync(dirname(config.paths.backingStore), { recursive: true, mode: 0o755 });
  const checkpoint = new CheckpointFile(config.paths.backingStore);
  const datastore = new Datastore({
    now,
    cooldownMs: config.pool.ipCooldownMs,
    prefixDelegation: config.pool.prefixDelegation,
    // IPv6 nodes serve from their /80 and write the checkpoint's "ipv6" entries.
    family: config.ipFamily === "ipv6" ? "6" : "4",
    persist: (d) => checkpoint.write(d),
  });
  const lock: StateLock = {
    path: locks[0]!.path,
    describe: (holder) => locks.forEach((l) => l.describe(holder)),
    release: () => locks.forEach((l) => l.release()),
  };
  return { datastore, checkpoint, lock };
}

/** The instance type's limits (the table, else DescribeInstanceTypes) and the node's max pods. */
export async function nodeTypeLimits(ec2: Ec2, instanceType: string, config: AgentConfig): Promise<TypeLimits> {
  const limits = loadInstanceLimits().get(instanceType) ?? (await describeInstanceLimits(ec2, instanceType));
  if (!limits) throw new Error(`instance type ${instanceType} is neither in the instance limits table nor described by EC2`);
  if (config.ipFamily === "ipv6" && !supportsPrefixDelegation(limits)) {
    // Reference isConfigValid: IPv4 falls back to secondary addresses, IPv6 cannot.
    throw new Error(`ENABLE_IPv6=true on ${instanceType}, which is neither Nitro nor bare metal: IPv6 pods need prefix delegation (/80 prefixes), which EC2 gives only those instances; nothing was changed on the node`);
  }
  const pods = maxPods({ limits, prefixDelegation: config.pool.prefixDelegation, customNetworking: customNetworkingOn(config.eni), ipv6: config.ipFamily === "ipv6", showMaxAllowed: config.ipFamily !== "ipv6", cpus: 1 });
  if (!pods.ok) throw new Error(pods.error);
  return { enis: limits.enis, ipv4PerEni: limits.ipv4PerEni, trunking: limits.trunking, maxPods: pods.maxAllowed };
}

/** The introspection and metrics servers the configuration asks for (either may be disabled). */
export async function startObservability(o: {
  config: AgentConfig;
  datastore: Datastore;
  agent: NodeAgent;
  budget: RequestBudget;
  lifecycle: AgentLifecycle;
  metrics: AgentMetrics;
  logger: AgentLogger;
  version: string;
  now: () => number;
  eniConfigName?: () => string | null;
}): Promise<Endpoint[]> {
  const { config, logger } = o;
  const endpoints: Endpoint[] = [];
  if (config.observability.introspectionBind) {
    const source = introspectionSource({ config, datastore: o.datastore, agent: o.agent, budget: o.budget, version: o.version, lifecycle: o.lifecycle, now: o.now, ...(o.eniConfigName ? { eniConfigName: o.eniConfigName } : {}) });
    endpoints.push(await startIntrospectionServer({ bind: config.observability.introspectionBind, source, log: logger.component("introspection") }));
  }
  if (config.observability.metricsBind) {
    endpoints.push(await startMetricsServer({ bind: config.observability.metricsBind, metrics: o.metrics, log: logger.component("metrics") }));
  }
  return endpoints;
}

/** The node from IMDS and EC2, its host networking, then the pods of the checkpoint taken back. */
export async function initialiseNode(o: {
  agent: NodeAgent;
  datastore: Datastore;
  checkpoint: CheckpointFile;
  host: AgentHost;
  config: AgentConfig;
  metrics: AgentMetrics;
  log: Log;
  lifecycle: AgentLifecycle;
  now: () => number;
}): Promise<void> {
  const { metrics, log } = o;
  const initDone = metrics.actionStarted("nodeInit");
  await o.agent.init();
  const restored = await restoreCheckpoint(o.datastore, o.checkpoint, {
    hostLinkExists: (name, suffix) => o.host.vethExists(name, suffix),
    vethPrefix: o.config.hostNetwork.vethPrefix,
  });
  initDone();
  metrics.nodeInitialization({ seconds: (o.now() - o.lifecycle.startedAt) / 1000, success: true });
  log("info", `checkpoint ${restored.fresh ? "absent (new node)" : "restored"}`, {
    adopted: restored.adopted.length,
    pruned: restored.pruned.map((p) => `${p.address} (${p.vethName})`),
    dropped: restored.dropped.map((d) => `${d.address}: ${d.reason}`),
  });
}

/** The plugin executables and the conflist into the node's CNI directories. */
export function installCni(config: AgentConfig, node: NodeAddresses, metrics: AgentMetrics, log: Log): void {
  try {
    const installed = installPlugins(pluginSource(process.env), config.paths.cniBinDir);
    const written = writeConflist(config, node, (message) => log("warn", message));
    log("info", `installed ${installed.join(", ")} and ${written}`);
  } catch (err) {
    // The agent still serves (pods already on the node keep working); the runtime just cannot
    // start new pods until the plugin is in place, which the log and status make plain.
    metrics.ipamdError("installCNI");
    log("error", `the CNI plugin was not installed: ${(err as Error).message}`);
  }
}
