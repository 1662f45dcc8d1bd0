// Whether a pod may run on a node, as the DaemonSet controller decides it (and as a scheduler's
// filters would, for nodeSelector, required node affinity and taints): nodeSelector labels;
// requiredDuringSchedulingIgnoredDuringExecution terms (ORed; matchExpressions on labels and
// matchFields on metadata.name ANDed within a term); every NoSchedule and NoExecute taint
// tolerated. Also the tolerations the DaemonSet controller adds to its pods and the node
// affinity it pins each pod to its node with.

import { isPlainObject, type KObject } from "../../kube/objects.ts";

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

function matchesRequirement(value: string | undefined, r: Requirement): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
    case "Lt": {
      if (value === undefined || values.length !== 1) return false;
      const a = Number(value);
      const b = Number(values[0]);
      if (!Number.isInteger(a) || !Number.isInteger(b)) return false;
      return r.operator === "Gt" ? a > b : a < b;
    }
    default:
      return false;
  }
}

function requiredTerms(podSpec: Obj): Obj[] | undefined {
  const affinity = isPlainObject(podSpec.affinity) ? podSpec.affinity : {};
  const nodeAffinity = isPlainObject(affinity.nodeAffinity) ? affinity.nodeAffinity : {};
  const required = nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
  if (!isPlainObject(required) || !Array.isArray(required.nodeSelectorTerms)) return undefined;
  return (required.nodeSelectorTerms as unknown[]).filter(isPlainObject);
}

function termMatches(term: Obj, node: KObject): boolean {
  const expressions = Array.isArray(term.matchExpressions) ? (term.matchExpressions as Requirement[]) : [];
  const fields = Array.isArray(term.matchFields) ? (term.matchFields as Requirement[]) : [];
  if (expressions.length === 0 && fields.length === 0) return false; // an empty term matches nothing
  const labels = node.metadata.labels ?? {};
  return expressions.every((r) => matchesRequirement(labels[r.key], r)) && fields.every((r) => r.key === "metadata.name" && matchesRequirement(node.metadata.name, r));
}

export function tolerates(tolerations: Toleration[], taint: Taint): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (!t.key) return t.operator === "Exists";
    if (t.key !== taint.key) return false;
    return t.operator === "Exists" || (t.value ?? "") === (taint.value ?? "");
  });
}

/** Whether a pod with this spec fits the node's labels, affinity and taints. */
export function podFitsNode(podSpec: Obj, node: KObject): boolean {
  const selector = isPlainObject(podSpec.nodeSelector) ? (podSpec.nodeSelector as Record<string, string>) : {};
  const labels = node.metadata.labels ?? {};
  if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) return false;
  const terms = requiredTerms(podSpec);
  if (terms && !terms.some((t) => termMatches(t, node))) return false;
  const tolerations = Array.isArray(podSpec.tolerations) ? (podSpec.tolerations as Toleration[]) : [];
  const taints = Array.isArray(spec(node).taints) ? (spec(node).taints as Taint[]) : [];
  return taints.filter((t) => t.effect === "NoSchedule" || t.effect === "NoExecute").every((t) => tolerates(tolerations, t));
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
