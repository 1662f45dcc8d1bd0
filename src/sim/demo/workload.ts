// The demo's workload: a namespace and a Deployment of agnhost netexec pods (the server that
// answers /clientip with the source address it saw), and what the cluster looks like while it
// comes up: pods by phase, and per node its ENIs and addresses (from EC2, through vpcsim's status)
// with the EC2 calls made so far.

import type { HostKubeClient } from "../cluster/host-kube-client.ts";
import { HostKubeError } from "../cluster/host-kube-client.ts";
import type { RunStatus } from "../status.ts";
import { NETEXEC_PORT } from "./checks.ts";

export const DEMO_NAMESPACE = "demo";
export const DEMO_DEPLOYMENT = "netexec";
export const NETEXEC_IMAGE = "registry.k8s.io/e2e-test-images/agnhost:2.53";

export function demoObjects(replicas: number): Record<string, unknown>[] {
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: DEMO_NAMESPACE } },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: DEMO_DEPLOYMENT, namespace: DEMO_NAMESPACE, labels: { app: DEMO_DEPLOYMENT } },
      spec: {
        replicas,
        selector: { matchLabels: { app: DEMO_DEPLOYMENT } },
        template: {
          metadata: { labels: { app: DEMO_DEPLOYMENT } },
          spec: {
            containers: [
              {
                name: "netexec",
                image: NETEXEC_IMAGE,
                args: ["netexec", `--http-port=${NETEXEC_PORT}`],
                ports: [{ containerPort: NETEXEC_PORT, name: "http" }],
                readinessProbe: { httpGet: { path: "/healthz", port: NETEXEC_PORT }, periodSeconds: 2 },
              },
            ],
          },
        },
      },
    },
  ];
}

export async function createWorkload(client: HostKubeClient, replicas: number): Promise<void> {
  for (const object of demoObjects(replicas)) {
    const meta = object.metadata as { name: string; namespace?: string };
    const path = object.kind === "Namespace" ? "/api/v1/namespaces" : `/apis/apps/v1/namespaces/${meta.namespace}/deployments`;
    try {
      await client.request("POST", path, object);
    } catch (err) {
      if (!(err instanceof HostKubeError && err.code === 409)) throw err;
      // Left by an earlier --keep: bring it to this run's replicas.
      if (object.kind === "Deployment") await client.request("PATCH", `${path}/${meta.name}`, { spec: { replicas } }, "application/merge-patch+json");
    }
  }
}

export interface PodView {
  name: string;
  uid: string;
  phase: string;
  ready: boolean;
  ip: string;
  node: string;
  waiting: string;
}

interface PodList {
  items: { metadata: { name: string; uid: string; deletionTimestamp?: string }; spec?: { nodeName?: string }; status?: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[]; containerStatuses?: { state?: { waiting?: { reason?: string } } }[] } }[];
}

export async function demoPods(client: HostKubeClient): Promise<PodView[]> {
  const list = await client.get<PodList>(`/api/v1/namespaces/${DEMO_NAMESPACE}/pods?labelSelector=app%3D${DEMO_DEPLOYMENT}`);
  return list.items
    .filter((p) => !p.metadata.deletionTimestamp)
    .map((p) => ({
      name: p.metadata.name,
      uid: p.metadata.uid,
      phase: p.status?.phase ?? "Pending",
      ready: (p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
      ip: p.status?.podIP ?? "",
      node: p.spec?.nodeName ?? "",
      waiting: p.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? "",
    }));
}

export interface Snapshot {
  pods: { total: number; running: number; ready: number; pending: number; creating: number };
  /** `addresses`: secondary IPv4 addresses; `prefixes80`: IPv6 /80s (an IPv6 node's pods' addresses). */
  nodes: { name: string; zone: string; enis: number; addresses: number; prefixes80: number; pods: number }[];
  ec2Calls: number;
}

/** Pods by state; per instance its attached ENIs and their addresses (secondaries, the pool's); the EC2 calls so far. */
export function snapshot(pods: PodView[], status: RunStatus, nodeOfInstance: Map<string, string>, ec2Calls: number): Snapshot {
  return {
    pods: {
      total: pods.length,
      running: pods.filter((p) => p.phase === "Running").length,
      ready: pods.filter((p) => p.ready).length,
      pending: pods.filter((p) => p.phase === "Pending" && !p.node).length,
      creating: pods.filter((p) => p.phase === "Pending" && p.node).length,
    },
    nodes: status.instances.map((i) => {
      const node = nodeOfInstance.get(i.id) ?? i.name;
      return {
        name: i.name,
        zone: i.zone,
        enis: i.enis.length,
        addresses: i.enis.reduce((n, e) => n + Math.max(0, e.privateIps.length - 1), 0),
        prefixes80: i.enis.reduce((n, e) => n + e.ipv6Prefixes.length, 0),
        pods: pods.filter((p) => p.node === node).length,
      };
    }),
    ec2Calls,
  };
}
