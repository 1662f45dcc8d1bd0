// `vpcsim demo` (and `sudo npm start`): the README's main job. A cluster on vpcsim (three m5.large
// nodes over two zones on the realistic profile, aws-node on each as its DaemonSet's pod), a
// Deployment of netexec pods, more than the warm pools hold so ENIs are attached while they come
// up, shown live; then real checks (pod to pod across nodes and zones without NAT, pod to node,
// pod to the internet through SNAT), each node's pool as its agent reports it, the EC2 calls by
// action, and the teardown (unless --keep). Exits 1 if any check failed.

import { adminRequest } from "../admin-client.ts";
import { runPaths } from "../run-dir.ts";
import type { RunStatus } from "../status.ts";
import { isProfileName, PROFILE_NAMES } from "../profiles.ts";
import { parse, UsageError } from "../cli/args.ts";
import { startRun } from "../cli/up.ts";
import { teardownRun } from "../cli/run-lifecycle.ts";
import { clusterTopology, DEFAULT_NODE_TYPE, MAX_NODES } from "../cluster/cluster-topology.ts";
import { HostKubeClient } from "../cluster/host-kube-client.ts";
import { summarizeNodes } from "../cluster/cluster-readiness.ts";
import { cidrContainsAddress, parseCidr4, parseIpv4 } from "../ipv4.ts";
import { POD_CIDR, withPodSubnets } from "../cluster/custom-networking-cluster.ts";
import { runChecks, type Check, type DemoNode, type DemoPod } from "./checks.ts";
import { podNetns, wgetInNetns } from "./probes.ts";
import { createWorkload, demoPods, snapshot, type PodView } from "./workload.ts";
import { ProgressDisplay } from "./progress.ts";
import { formatCalls, formatChecks, formatPools, type CallCounts, type PoolView } from "./report.ts";

/** Scenarios the demo will grow (each a later issue); refused until they exist. */
const LATER_SCENARIOS = { "security-groups-for-pods": "security groups for pods" } as const;

export interface DemoReport {
  run: string;
  nodes: DemoNode[];
  replicas: number;
  rolledOut: boolean;
  podsReady: number;
  checks: Check[];
  pools: PoolView[];
  calls: CallCounts;
  failures: string[];
  seconds: number;
}

function whole(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new UsageError(`--${name} '${text}': a whole number from ${min} to ${max}`);
  return n;
}

export async function demo(args: string[]): Promise<number> {
  const { values } = parse(args, {
    run: { type: "string", default: "demo" },
    keep: { type: "boolean", default: false },
    nodes: { type: "string", default: "3" },
    replicas: { type: "string", default: "" },
    profile: { type: "string", default: "realistic" },
    "instance-type": { type: "string", default: DEFAULT_NODE_TYPE },
    timeout: { type: "string", default: "240" },
    json: { type: "boolean", default: false },
    // An IPv6 cluster: dual-stack nodes, aws-node in its IPv6 mode, pods with IPv6 addresses only
    // (IPv4 to the internet through egress-cni).
    ipv6: { type: "boolean", default: false },
    "custom-networking": { type: "boolean", default: false },
    ...Object.fromEntries(Object.keys(LATER_SCENARIOS).map((k) => [k, { type: "boolean" as const, default: false }])),
  });
  for (const [flag, what] of Object.entries(LATER_SCENARIOS)) {
    if ((values as Record<string, unknown>)[flag] === true) throw new UsageError(`--${flag}: the ${what} scenario is not built yet`);
  }
  if (!isProfileName(values.profile)) throw new UsageError(`--profile '${values.profile}': choose one of ${PROFILE_NAMES.join(", ")}`);
  const nodes = whole("nodes", values.nodes, 1, MAX_NODES);
  // Custom networking loses the primary ENI (an m5.large node holds 18 pod addresses, not 27): 40 by
  // default so three nodes hold them with room to spare, however the scheduler spreads them.
  const replicas = whole("replicas", values.replicas || (values["custom-networking"] === true ? "40" : "60"), 1, 1000);
  const timeoutMs = whole("timeout", values.timeout, 10, 3600) * 1000;
  const say = values.json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  const began = Date.now();

  const ipv6 = values.ipv6 === true;
  const customNetworking = values["custom-networking"] === true;
  if (ipv6 && customNetworking) throw new UsageError("--ipv6 and --custom-networking exclude each other: custom networking is IPv4 only");
  say(`vpcsim demo: ${nodes} ${values["instance-type"]} ${ipv6 ? "dual-stack " : ""}node(s) over two zones (${values.profile} profile${ipv6 ? ", IPv6 pods" : ""}), then a Deployment of ${replicas} netexec pods`);
  // Interrupted while the cluster comes up: take down whatever is there, then stop.
  const early = () => {
    say("interrupted: tearing the cluster down...");
    void teardownRun(runPaths(values.run)).finally(() => process.exit(130));
  };
  process.once("SIGINT", early);
  process.once("SIGTERM", early);
  const { paths, state } = await startRun({ name: values.run, profile: values.profile, topology: customNetworking ? withPodSubnets(clusterTopology(nodes, values["instance-type"])) : clusterTopology(nodes, values["instance-type"], "us-east-1", ipv6), kubelets: true, cluster: true, ipv6Pods: ipv6, customNetworking, progress: say, readyTimeoutMs: timeoutMs });
  process.off("SIGINT", early);
  process.off("SIGTERM", early);
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const report = await runDemo(paths, state, replicas, timeoutMs, values.json, say, () => interrupted, customNetworking ? POD_CIDR : undefined);
    report.seconds = Math.round((Date.now() - began) / 1000);
    if (values.json) console.log(JSON.stringify(report, null, 2));
    const failed = report.checks.filter((c) => !c.ok).length;
    say(`\n${report.checks.length - failed}/${report.checks.length} checks passed${report.failures.length ? `; ${report.failures.join("; ")}` : ""} (${report.seconds} s)`);
    const ok = failed === 0 && report.failures.length === 0 && report.checks.length > 0;
    if (values.keep && !interrupted) {
      const run = values.run === "default" ? "" : ` --run ${values.run}`;
      say(`The cluster is still up (--keep). Try: vpcsim kubectl${run} get pods -n demo -o wide; vpcsim kubectl${run} get nodes; vpcsim down${run}`);
    }
    return ok ? 0 : 1;
  } finally {
    if (!values.keep || interrupted) {
      say("tearing the cluster down...");
      await teardownRun(paths);
      say("done: nothing of the run is left");
    }
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

async function callCounts(socket: string): Promise<CallCounts> {
  return adminRequest<CallCounts>(socket, "GET", "/calls/counts");
}

async function runDemo(paths: ReturnType<typeof runPaths>, state: RunStatus, replicas: number, timeoutMs: number, json: boolean, say: (line: string) => void, interrupted: () => boolean, podCidr?: string): Promise<DemoReport> {
  const client = HostKubeClient.forRun(paths);
  const failures: string[] = [];
  const nodeList = summarizeNodes(await client.get("/api/v1/nodes"));
  const instanceByIp = new Map(state.instances.map((i) => [i.privateIp, i]));
  const nodes: DemoNode[] = nodeList.sort((a, b) => a.name.localeCompare(b.name)).flatMap((n) => {
    const i = instanceByIp.get(n.internalIp);
    return i ? [{ name: n.name, instance: i.name, zone: i.zone, ip: i.privateIp, publicIp: i.publicIp, netns: i.netns }] : [];
  }).sort((a, b) => a.instance.localeCompare(b.instance, undefined, { numeric: true }));
  const nodeOfInstance = new Map(state.instances.map((i) => [i.id, nodes.find((n) => n.instance === i.name)?.name ?? i.name]));

  say(`\nDeployment demo/netexec: ${replicas} pods`);
  await createWorkload(client, replicas);
  const display = new ProgressDisplay(json ? process.stderr : process.stdout);
  const started = Date.now();
  let pods: PodView[] = [];
  let rolledOut = false;
  while (Date.now() - started < timeoutMs && !interrupted()) {
    pods = await demoPods(client);
    const status = await adminRequest<RunStatus>(paths.adminSocket, "GET", "/status");
    const calls = Object.values(await callCounts(paths.adminSocket)).reduce((n, c) => n + c.total, 0);
    rolledOut = pods.length === replicas && pods.every((p) => p.ready);
    display.show(snapshot(pods, status, nodeOfInstance, calls), Date.now() - started, rolledOut);
    if (rolledOut) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  display.done();
  if (interrupted()) failures.push("interrupted");
  else if (!rolledOut) failures.push(`the Deployment did not become ready within ${timeoutMs / 1000} s (${pods.filter((p) => p.ready).length}/${replicas} Ready)`);
  else say(`all ${replicas} pods Running and Ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const demoPodsWithNetns: DemoPod[] = pods.flatMap((p) => {
    const node = nodes.find((n) => n.name === p.node);
    const netns = node && p.ip ? podNetns(paths.dir, node.instance, p.uid) : undefined;
    return node && netns ? [{ name: p.name, ip: p.ip, node: node.name, zone: node.zone, netns }] : [];
  });
  const checks = interrupted() ? [] : await runChecks(wgetInNetns, demoPodsWithNetns, nodes);
  if (!interrupted() && checks.length === 0) failures.push("no pod could be checked");
  if (podCidr !== undefined && !interrupted()) {
    // Custom networking: every pod's address from the subnets tagged for pods, none from the node subnets.
    const outside = pods.filter((p) => p.ip && !inIpv4Cidr(p.ip, podCidr));
    if (outside.length > 0) failures.push(`custom networking: ${outside.length} pod(s) outside ${podCidr}: ${outside.map((p) => `${p.name} ${p.ip}`).join(", ")}`);
    else say(`custom networking: all ${pods.length} pods' addresses are in ${podCidr} (the subnets tagged kubernetes.io/role/cni)`);
  }
  const label = (node: string) => {
    const n = nodes.find((x) => x.name === node);
    return n ? `${n.instance} ${n.zone}` : node;
  };
  if (!json) say(`\n${formatChecks(checks, label)}`);

  const pools: PoolView[] = [];
  for (const n of nodes) {
    const r = await wgetInNetns(n.netns, "http://127.0.0.1:61679/v1/pool");
    try {
      if (!r.ok) throw new Error(r.error ?? "no answer");
      const stats = (JSON.parse(r.body) as { stats: { enis: number; total: number; assigned: number; available: number; cooldown: number } }).stats;
      pools.push({ node: n.instance, zone: n.zone, enis: stats.enis, total: stats.total, assigned: stats.assigned, available: stats.available, cooldown: stats.cooldown });
    } catch (err) {
      pools.push({ node: n.instance, zone: n.zone, enis: 0, total: 0, assigned: 0, available: 0, cooldown: 0, error: `introspection: ${(err as Error).message}` });
      failures.push(`${n.instance}'s agent did not answer on its introspection endpoint`);
    }
  }
  const calls = await callCounts(paths.adminSocket);
  if (!json) {
    say(`\nEach node's pool (its agent's introspection, 127.0.0.1:61679/v1/pool)\n${formatPools(pools)}`);
    say(`\nEC2 calls by action (vpcsim calls --counts)\n${formatCalls(calls)}`);
  }
  return { run: paths.name, nodes, replicas, rolledOut, podsReady: pods.filter((p) => p.ready).length, checks, pools, calls, failures, seconds: 0 };
}

function inIpv4Cidr(address: string, cidr: string): boolean {
  const block = parseCidr4(cidr);
  const value = parseIpv4(address);
  return block !== undefined && value !== undefined && cidrContainsAddress(block, value);
}
