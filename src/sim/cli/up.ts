// `vpcsim up`: the topology from a file or flags, checked; the run directory; the daemon started
// with the host's Kubernetes access alongside; the run's state printed.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { adminRequest } from "../admin-client.ts";
import { checkRunName, livePid, runPaths, type RunPaths } from "../run-dir.ts";
import { formatStatus, type RunStatus } from "../status.ts";
import { defaultTopology, topologyFromFlags, validateTopology, type Topology } from "../topology.ts";
import { isProfileName, PROFILE_NAMES, type ProfileName } from "../profiles.ts";
import { loadInstanceTypes } from "../ec2/instance-types.ts";
import { startKubeForwarder, writeAdminKubeconfig } from "./kube-access.ts";
import { parse, RUN_OPTION, UsageError } from "./args.ts";
import { startDaemon, teardownRun } from "./run-lifecycle.ts";
import { ensurePluginBuilt } from "./plugin-build.ts";
import { clusterTopology, DEFAULT_NODE_TYPE, MAX_NODES } from "../cluster/cluster-topology.ts";
import { HostKubeClient } from "../cluster/host-kube-client.ts";
import { formatNodes, waitForCluster, type NodeSummary } from "../cluster/cluster-readiness.ts";

/** deploy/ of this checkout: what `up --nodes` applies. */
export const DEPLOY_DIR = join(import.meta.dirname, "..", "..", "..", "deploy");

export async function up(args: string[]): Promise<number> {
  const { values } = parse(args, {
    ...RUN_OPTION,
    profile: { type: "string", default: "instant" },
    topology: { type: "string" },
    region: { type: "string" },
    "vpc-cidr": { type: "string" },
    ipv6: { type: "boolean", default: false },
    subnet: { type: "string", multiple: true, default: [] },
    instance: { type: "string", multiple: true, default: [] },
    kubelets: { type: "boolean", default: false },
    nodes: { type: "string" },
    "instance-type": { type: "string" },
    json: { type: "boolean", default: false },
  });
  const name = values.run ?? process.env.VPCSIM_RUN ?? "default";
  if (!isProfileName(values.profile)) throw new UsageError(`--profile '${values.profile}': choose one of ${PROFILE_NAMES.join(", ")}`);

  let topology: Topology;
  const cluster = values.nodes !== undefined;
  if (cluster) {
    if (values.topology !== undefined || values.subnet.length > 0 || values.instance.length > 0 || values["vpc-cidr"]) {
      throw new UsageError("--nodes N builds its own topology: it excludes --topology, --vpc-cidr, --subnet and --instance");
    }
    // --ipv6 with --nodes: a dual-stack VPC and aws-node in its IPv6 mode (IPv6 pods).
    topology = clusterFlags(values.nodes!, values["instance-type"], values.region, values.ipv6);
  } else if (values["instance-type"] !== undefined) {
    throw new UsageError("--instance-type goes with --nodes N");
  } else if (values.topology !== undefined) {
    if (values.subnet.length > 0 || values.instance.length > 0 || values["vpc-cidr"] || values.region || values.ipv6) {
      throw new UsageError("--topology FILE and topology flags (--region, --vpc-cidr, --ipv6, --subnet, --instance) exclude each other");
    }
    let text: string;
    try {
      text = readFileSync(values.topology, "utf8");
    } catch (err) {
      throw new UsageError(`cannot read --topology ${values.topology}: ${(err as Error).message}`);
    }
    try {
      // region and instances may be left out; everything else must be there.
      topology = { region: defaultTopology().region, instances: [], ...(JSON.parse(text) as Partial<Topology>) } as Topology;
    } catch (err) {
      throw new UsageError(`--topology ${values.topology} is not valid JSON: ${(err as Error).message}`);
    }
  } else {
    try {
      topology = topologyFromFlags({ region: values.region, vpcCidr: values["vpc-cidr"], ipv6: values.ipv6, subnets: values.subnet, instances: values.instance });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const started = await startRun({ name, profile: values.profile, topology, kubelets: values.kubelets || cluster, cluster, ipv6Pods: cluster && values.ipv6, progress: values.json ? undefined : (line) => console.error(line) });
  const { paths, state } = started;
  const run = name === "default" ? "" : ` --run ${name}`;
  if (values.json) console.log(JSON.stringify(state, null, 2));
  else {
    console.log(formatStatus(state));
    if (started.nodes) console.log(`\n${formatNodes(started.nodes)}`);
    const next = cluster ? `vpcsim kubectl${run} get pods -A -o wide; vpcsim apply${run} -f FILE` : `vpcsim exec ${state.instances[0]?.name ?? "INSTANCE"} -- ip addr; vpcsim kubectl${run} get namespaces`;
    console.log(`\nvpcsim run '${name}' is up. Try: ${next}; vpcsim down${run}\nKubernetes API kubeconfig: ${paths.kubeconfig}`);
  }
  return 0;
}

/** The topology of --nodes N [--instance-type T] [--region R]. */
export function clusterFlags(nodesText: string, instanceType: string | undefined, region: string | undefined, ipv6 = false): Topology {
  const nodes = Number(nodesText);
  if (!/^\d+$/.test(nodesText) || nodes < 1 || nodes > MAX_NODES) throw new UsageError(`--nodes '${nodesText}': a whole number from 1 to ${MAX_NODES}`);
  return clusterTopology(nodes, instanceType ?? DEFAULT_NODE_TYPE, region ?? "us-east-1", ipv6);
}

export interface RunRequest {
  name: string;
  profile: ProfileName;
  topology: Topology;
  /** A kubelet per instance and the scheduler. */
  kubelets: boolean;
  /** deploy/ applied (aws-node on every node), and the wait until every node is Ready. */
  cluster: boolean;
  /** With cluster: aws-node in its IPv6 mode (the topology must be dual-stack). */
  ipv6Pods?: boolean;
  /** With cluster: aws-node in custom networking by tags (the topology must have tagged pod subnets). */
  customNetworking?: boolean;
  progress?: (line: string) => void;
  /** Most time to wait for the nodes to become Ready (default 180 s). */
  readyTimeoutMs?: number;
}

export interface StartedRun {
  paths: RunPaths;
  state: RunStatus;
  /** The Ready nodes of a cluster run. */
  nodes?: NodeSummary[];
}

/** Brings a run up (the checks, the run directory, the daemon, the host's Kubernetes access); on failure leaves nothing behind. */
export async function startRun(request: RunRequest): Promise<StartedRun> {
  const { name, topology } = request;
  const nameProblem = checkRunName(name);
  if (nameProblem) throw new UsageError(nameProblem);
  const types = loadInstanceTypes();
  const problems = validateTopology(topology, (t) => types.has(t));
  if (problems.length > 0) throw new UsageError(`the topology is not valid:\n  ${problems.join("\n  ")}`);

  const paths = runPaths(name);
  if (livePid(paths) !== undefined) throw new Error(`run '${name}' is already up; take it down first with: vpcsim down --run ${name}`);
  if (request.cluster) await ensurePluginBuilt(request.progress);
  // A directory without a live daemon is what a crash left: clear it before reusing the name.
  await teardownRun(paths);

  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  writeFileSync(paths.topologyFile, JSON.stringify(topology, null, 2));
  const manifests = request.ipv6Pods
    ? [(await import("../cluster/ipv6-manifests.ts")).writeIpv6ClusterManifests(DEPLOY_DIR, paths.dir)]
    : request.customNetworking
      ? [(await import("../cluster/custom-networking-cluster.ts")).writeCustomNetworkingManifests(DEPLOY_DIR, paths.dir)]
      : [DEPLOY_DIR];
  const settings = { profile: request.profile, ...(request.kubelets ? { kubernetesNodes: true } : {}), ...(request.cluster ? { manifests } : {}) };
  writeFileSync(paths.settingsFile, JSON.stringify(settings, null, 2));
  try {
    // The host's way in to the Kubernetes API starts alongside the daemon, so `up` is no slower for it.
    let forwarder: Promise<number> | undefined;
    await startDaemon(paths, (daemonPid) => (forwarder = startKubeForwarder(paths, daemonPid)));
    await writeAdminKubeconfig(paths, await forwarder!);
    let nodes: NodeSummary[] | undefined;
    if (request.cluster) {
      request.progress?.(`waiting for ${topology.instances.length} node(s) to become Ready (aws-node installs the CNI)...`);
      nodes = await waitForCluster(HostKubeClient.forRun(paths), topology.instances.length, { timeoutMs: request.readyTimeoutMs ?? 180_000, progress: request.progress, logFile: paths.logFile });
    }
    const state = await adminRequest<RunStatus>(paths.adminSocket, "GET", "/status");
    return { paths, state, ...(nodes ? { nodes } : {}) };
  } catch (err) {
    await teardownRun(paths);
    throw err;
  }
}
