// Whether a pod may run on a node, as the DaemonSet controller decides it: the scheduler's
// nodeSelector and required-node-affinity predicate, and every NoSchedule and NoExecute taint of
// the node tolerated (the node's own taints: the DaemonSet controller does not add the not-ready
// one the scheduler sees). Also the tolerations the DaemonSet controller adds to its pods and the node
// affinity it pins each pod to its node with.

import { isPlainObject, type KObject } from "../../kube/objects.ts";
import { matchesNodeAffinity, tolerates } from "../../kube/controllers/scheduler-predicates.ts";

type Obj = Record<string, unknown>;

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

interface Taint {
  key: string;
  value?: string;
  effect: string;
}

interface Requirement {
  key: string;
  operator: string;
  values?: string[];
}

function spec(o: KObject | Obj): Obj {
  const s = (o as Obj).spec;
  return isPlainObject(s) ? s : {};
}

function requiredTerms(podSpec: Obj): Obj[] | undefined {
  const affinity = isPlainObject(podSpec.affinity) ? podSpec.affinity : {};
  const nodeAffinity = isPlainObject(affinity.nodeAffinity) ? affinity.nodeAffinity : {};
  const required = nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
  if (!isPlainObject(required) || !Array.isArray(required.nodeSelectorTerms)) return undefined;
  return (required.nodeSelectorTerms as unknown[]).filter(isPlainObject);
}

/** Whether a pod with this spec fits the node's labels, affinity and taints (the scheduler's own predicates). */
export function podFitsNode(podSpec: Obj, node: KObject): boolean {
  if (!matchesNodeAffinity({ apiVersion: "v1", kind: "Pod", metadata: {}, spec: podSpec }, node)) return false;
  const tolerations = Array.isArray(podSpec.tolerations) ? (podSpec.tolerations as Toleration[]) : [];
  const taints = Array.isArray(spec(node).taints) ? (spec(node).taints as Taint[]) : [];
  return taints.filter((t) => t.effect === "NoSchedule" || t.effect === "NoExecute").every((taint) => tolerations.some((t) => tolerates(t, taint)));
}

/** The tolerations the DaemonSet controller adds to every pod it makes (util.AddOrUpdateDaemonPodTolerations). */
export function withDaemonTolerations(podSpec: Obj): Obj {
  const tolerations = Array.isArray(podSpec.tolerations) ? [...(podSpec.tolerations as Toleration[])] : [];
  const add = (t: Toleration) => {
    if (!tolerations.some((o) => o.key === t.key && o.effect === t.effect && o.operator === t.operator)) tolerations.push(t);
  };
  add({ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" });
  add({ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" });
  add({ key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" });
  add({ key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" });
  add({ key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" });
  add({ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" });
  if (podSpec.hostNetwork === true) add({ key: "node.kubernetes.io/network-unavailable", operator: "Exists", effect: "NoSchedule" });
  return { ...podSpec, tolerations };
}

/**
 * The pod spec pinned to one node as the DaemonSet controller pins it
 * (ReplaceDaemonSetPodNodeNameNodeAffinity): every required term's matchFields become
 * metadata.name In [node]; with no terms, one term holding only that.
 */
export function pinnedToNode(podSpec: Obj, node: string): Obj {
  const field = { key: "metadata.name", operator: "In", values: [node] };
  const affinity: Obj = isPlainObject(podSpec.affinity) ? structuredClone(podSpec.affinity) : {};
  const nodeAffinity: Obj = isPlainObject(affinity.nodeAffinity) ? affinity.nodeAffinity : {};
  const required: Obj = isPlainObject(nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution) ? nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution : {};
  const terms = Array.isArray(required.nodeSelectorTerms) ? (required.nodeSelectorTerms as Obj[]).filter(isPlainObject) : [];
  const next = terms.length === 0 ? [{ matchFields: [field] }] : terms.map((t) => ({ ...t, matchFields: [field] }));
  return { ...podSpec, affinity: { ...affinity, nodeAffinity: { ...nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: { ...required, nodeSelectorTerms: next } } } };
}

/** The node a DaemonSet pod is for: its spec.nodeName once bound, else the node its affinity pins (GetTargetNodeName). */
export function targetNode(pod: KObject): string | undefined {
  const s = spec(pod);
  if (typeof s.nodeName === "string" && s.nodeName !== "") return s.nodeName;
  for (const term of requiredTerms(s) ?? []) {
    const fields = Array.isArray(term.matchFields) ? (term.matchFields as Requirement[]) : [];
    const f = fields.find((r) => r.key === "metadata.name" && r.operator === "In" && r.values?.length === 1);
    if (f) return f.values![0];
  }
  return undefined;
}
