// The kubelet's Node: registered as an EKS node registers (name = the private DNS name, providerID
// aws:///<zone>/<instance-id>, the well-known and EKS labels, capacity and allocatable from the
// instance type), its status kept current (the Ready condition from the runtime's network status,
// worded as the kubelet words it: "container runtime network not ready: NetworkReady=false
// reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"),
// and its heartbeat: the node's Lease in kube-node-lease renewed every 10 seconds.

import type { KObject } from "../../kube/objects.ts";
import type { NodeApi } from "../api/node-api.ts";
import { isStatus } from "../api/node-api.ts";
import type { NetworkStatus } from "../cni/pod-network.ts";
import type { NodeCapacity } from "./capacity.ts";
import type { InstanceIdentity } from "./instance-identity.ts";

export const KUBELET_VERSION = "v1.34.0-eks-vpcsim";
const LEASE_DURATION_SECONDS = 40;

export interface NodeSettings {
  name: string;
  identity: InstanceIdentity;
  capacity: NodeCapacity;
  /** Extra labels (--node-labels), e.g. eks.amazonaws.com/nodegroup. */
  labels?: Record<string, string>;
  taints?: Array<{ key: string; value?: string; effect: string }>;
}

function stamp(d = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, "Z");
}

export function nodeLabels(s: NodeSettings): Record<string, string> {
  const id = s.identity;
  return {
    "beta.kubernetes.io/arch": "amd64",
    "beta.kubernetes.io/instance-type": id.instanceType,
    "beta.kubernetes.io/os": "linux",
    "failure-domain.beta.kubernetes.io/region": id.region,
    "failure-domain.beta.kubernetes.io/zone": id.zone,
    "kubernetes.io/arch": "amd64",
    "kubernetes.io/hostname": s.name,
    "kubernetes.io/os": "linux",
    "node.kubernetes.io/instance-type": id.instanceType,
    "topology.kubernetes.io/region": id.region,
    "topology.kubernetes.io/zone": id.zone,
    "topology.k8s.aws/zone-id": zoneId(id.zone, id.region),
    "eks.amazonaws.com/capacityType": "ON_DEMAND",
    "eks.amazonaws.com/nodegroup": "vpcsim",
    "eks.amazonaws.com/nodegroup-image": "ami-0vpcsim0000000000",
    "k8s.io/cloud-provider-aws": "vpcsim",
    ...(s.labels ?? {}),
  };
}

/** us-east-1a -> use1-az1 (the zone's letter numbered; EC2's real mapping differs per account). */
function zoneId(zone: string, region: string): string {
  const [geo = "", direction = "", number = ""] = region.split("-");
  const letter = zone.slice(region.length);
  return `${geo}${direction.slice(0, 1)}${number}-az${letter.charCodeAt(0) - 96}`;
}

function resources(c: NodeCapacity, allocatable: boolean): Record<string, string> {
  // EKS reserves cpu and memory for the system (kubeReserved); allocatable is what pods get.
  const memKi = Number.parseInt(c.memory, 10);
  return {
    cpu: allocatable ? `${Number(c.cpu) * 1000 - 70}m` : c.cpu,
    "ephemeral-storage": allocatable ? "18242267924" : c.ephemeralStorage,
    "hugepages-1Gi": "0",
    "hugepages-2Mi": "0",
    memory: allocatable ? `${Math.max(0, memKi - 11 * c.pods * 1024 - 255 * 1024 - 100 * 1024)}Ki` : c.memory,
    pods: String(c.pods),
  };
}

export function readyCondition(network: NetworkStatus, was: any, now: string): Record<string, unknown> {
  const ready = network.ready;
  const status = ready ? "True" : "False";
  return {
    type: "Ready",
    status,
    lastHeartbeatTime: now,
    lastTransitionTime: was?.status === status ? was.lastTransitionTime : now,
    reason: ready ? "KubeletReady" : "KubeletNotReady",
    message: ready ? "kubelet is posting ready status" : `container runtime network not ready: NetworkReady=false reason:${network.reason} message:${network.message}`,
  };
}

function pressure(type: string, reason: string, message: string, was: any, now: string) {
  return { type, status: "False", lastHeartbeatTime: now, lastTransitionTime: was?.lastTransitionTime ?? now, reason, message };
}

export function nodeStatus(s: NodeSettings, network: NetworkStatus, old: any): Record<string, unknown> {
  const now = stamp();
  const was = new Map<string, any>(((old?.conditions ?? []) as any[]).map((c) => [c.type, c]));
  return {
    capacity: resources(s.capacity, false),
    allocatable: resources(s.capacity, true),
    conditions: [
      pressure("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available", was.get("MemoryPressure"), now),
      pressure("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", was.get("DiskPressure"), now),
      pressure("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available", was.get("PIDPressure"), now),
      readyCondition(network, was.get("Ready"), now),
    ],
    addresses: [
      { type: "InternalIP", address: s.identity.privateIp },
      { type: "InternalDNS", address: s.identity.privateDnsName },
      { type: "Hostname", address: s.identity.privateDnsName },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: s.identity.instanceId.replace(/^i-/, "ec2").padEnd(32, "0").slice(0, 32),
      systemUUID: `ec2${s.identity.instanceId.slice(2, 7)}-0000-0000-0000-000000000000`,
      bootID: "00000000-0000-0000-0000-000000000000",
      kernelVersion: "6.1.0-vpcsim",
      osImage: "Amazon Linux 2023 (vpcsim)",
      containerRuntimeVersion: "containerd://1.7.27",
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: "",
      operatingSystem: "linux",
      architecture: "amd64",
    },
  };
}

export function nodeObject(s: NodeSettings, network: NetworkStatus): KObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: s.name,
      labels: nodeLabels(s),
      annotations: { "node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true", "alpha.kubernetes.io/provided-node-ip": s.identity.privateIp },
    },
    spec: { providerID: `aws:///${s.identity.zone}/${s.identity.instanceId}`, ...(s.taints && s.taints.length > 0 ? { taints: s.taints } : {}) },
    status: nodeStatus(s, network, undefined),
  };
}

/** Registers the Node (or takes over the one there, as a restarted kubelet does); returns it. */
export async function registerNode(api: NodeApi, s: NodeSettings, network: NetworkStatus): Promise<KObject> {
  const wanted = nodeObject(s, network);
  try {
    return await api.create(wanted);
  } catch (err) {
    if (!isStatus(err, 409)) throw err;
  }
  // Already registered: the kubelet reconciles its labels, providerID and capacity.
  await api.patch("v1/nodes", s.name, "", { metadata: { labels: wanted.metadata.labels, annotations: wanted.metadata.annotations } }, "merge");
  return api.patch("v1/nodes", s.name, "", { status: wanted.status }, "merge", { subresource: "status" });
}

/** Writes the node's status (conditions, capacity, addresses). */
export async function updateNodeStatus(api: NodeApi, s: NodeSettings, network: NetworkStatus, old: any): Promise<KObject> {
  return api.patch("v1/nodes", s.name, "", { status: nodeStatus(s, network, old) }, "merge", { subresource: "status" });
}

/** Creates or renews the node's Lease (holder = node, 40 s). */
export async function renewLease(api: NodeApi, node: string, nodeUid: string): Promise<void> {
  const now = new Date().toISOString().replace("Z", "000Z").replace(/(\.\d{6})\d*Z$/, "$1Z");
  try {
    const lease = await api.get("coordination.k8s.io/v1/leases", node, "kube-node-lease");
    await api.update({ ...lease, spec: { ...(lease.spec as object), holderIdentity: node, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: now } });
  } catch (err) {
    if (!isStatus(err, 404)) throw err;
    await api.create({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: node, namespace: "kube-node-lease", ownerReferences: [{ apiVersion: "v1", kind: "Node", name: node, uid: nodeUid }] },
      spec: { holderIdentity: node, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: now },
    });
  }
}

export { stamp };
