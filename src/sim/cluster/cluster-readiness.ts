// Waiting for a vpcsim cluster to be usable: every node registered and Ready (a node is Ready once
// aws-node's agent has written the CNI conflist, which the kubelet's runtime reports as the network
// being ready) and the aws-node DaemonSet available on each; with a line of progress whenever that
// changes, and on timeout an error that says what is missing (not-Ready nodes' reasons, aws-node
// pods' states, the latest warning events).

import type { HostKubeClient } from "./host-kube-client.ts";
import { HostKubeError } from "./host-kube-client.ts";

type Obj = Record<string, unknown>;
interface KList {
  items: { metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: Obj; status?: Obj }[];
}

export interface NodeSummary {
  name: string;
  instanceType: string;
  zone: string;
  internalIp: string;
  ready: boolean;
  /** The Ready condition's message when not ready. */
  why: string;
}

export function summarizeNodes(list: KList): NodeSummary[] {
  return list.items.map((n) => {
    const status = n.status ?? {};
    const conditions = (Array.isArray(status.conditions) ? status.conditions : []) as { type: string; status: string; message?: string }[];
    const ready = conditions.find((c) => c.type === "Ready");
    const addresses = (Array.isArray(status.addresses) ? status.addresses : []) as { type: string; address: string }[];
    const labels = n.metadata.labels ?? {};
    return {
      name: n.metadata.name,
      instanceType: labels["node.kubernetes.io/instance-type"] ?? "",
      zone: labels["topology.kubernetes.io/zone"] ?? "",
      internalIp: addresses.find((a) => a.type === "InternalIP")?.address ?? "",
      ready: ready?.status === "True",
      why: ready?.status === "True" ? "" : (ready?.message ?? "not reported yet"),
    };
  });
}

export function formatNodes(nodes: NodeSummary[]): string {
  const rows = [["NODE", "STATUS", "ZONE", "TYPE", "INTERNAL-IP"], ...nodes.map((n) => [n.name, n.ready ? "Ready" : "NotReady", n.zone, n.instanceType, n.internalIp])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}

async function awsNodeAvailable(client: HostKubeClient): Promise<number> {
  try {
    const ds = await client.get<{ status?: { numberAvailable?: number } }>("/apis/apps/v1/namespaces/kube-system/daemonsets/aws-node");
    return ds.status?.numberAvailable ?? 0;
  } catch (err) {
    if (err instanceof HostKubeError && err.code === 404) return 0;
    throw err;
  }
}

async function diagnosis(client: HostKubeClient): Promise<string> {
  const lines: string[] = [];
  try {
    for (const n of summarizeNodes(await client.get<KList>("/api/v1/nodes"))) if (!n.ready) lines.push(`node ${n.name}: ${n.why}`);
    const pods = await client.get<KList>("/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Daws-node");
    for (const p of pods.items) {
      const status = p.status ?? {};
      const containers = (Array.isArray(status.containerStatuses) ? status.containerStatuses : []) as { name: string; ready?: boolean; state?: Record<string, { reason?: string; message?: string }> }[];
      const states = containers.map((c) => `${c.name} ${c.ready ? "ready" : Object.entries(c.state ?? {}).map(([k, v]) => `${k}${v.reason ? ` (${v.reason})` : ""}`).join(",")}`);
      lines.push(`pod ${p.metadata.name} on ${String(p.spec?.nodeName ?? "(unscheduled)")}: ${String(status.phase ?? "Pending")}${states.length ? `; ${states.join("; ")}` : ""}`);
    }
    const events = await client.get<{ items: { type?: string; reason?: string; message?: string; involvedObject?: { name?: string } }[] }>("/api/v1/events?fieldSelector=type%3DWarning");
    for (const e of events.items.slice(-5)) lines.push(`event ${e.reason} ${e.involvedObject?.name ?? ""}: ${e.message ?? ""}`);
  } catch (err) {
    lines.push(`(the API did not answer: ${(err as Error).message})`);
  }
  return lines.join("\n  ");
}

export async function waitForCluster(client: HostKubeClient, expected: number, options: { timeoutMs: number; progress?: (line: string) => void; logFile?: string }): Promise<NodeSummary[]> {
  const deadline = Date.now() + options.timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    const nodes = summarizeNodes(await client.get<KList>("/api/v1/nodes"));
    const available = await awsNodeAvailable(client);
    const ready = nodes.filter((n) => n.ready).length;
    const line = `  nodes registered ${nodes.length}/${expected}, Ready ${ready}/${expected}; aws-node available ${available}/${expected}`;
    if (line !== last) options.progress?.(line);
    last = line;
    if (nodes.length >= expected && ready >= expected && available >= expected) return nodes.sort((a, b) => a.name.localeCompare(b.name));
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the cluster's nodes did not all become Ready within ${Math.round(options.timeoutMs / 1000)} s:\n  ${await diagnosis(client)}${options.logFile ? `\n(vpcsim's log: ${options.logFile})` : ""}`);
}
