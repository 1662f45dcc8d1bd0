// The scheduler's filters, as kube-scheduler's plugins decide and word them: NodeUnschedulable,
// the not-ready taint a node that is not Ready carries, TaintToleration (NoSchedule and NoExecute
// taints need a toleration), NodeAffinity (nodeSelector and the required node affinity's
// matchExpressions and matchFields, which DaemonSet pods are pinned with), NodeResourcesFit for the
// pod count (allocatable pods). Each failing node gives a reason; FailedScheduling's message
// counts them as kube-scheduler does: "0/3 nodes are available: 3 Too many pods. preemption: ...".

import type { KObject } from "../objects.ts";

export const REASON_TOO_MANY_PODS = "Too many pods";
export const REASON_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
export const REASON_UNSCHEDULABLE = "node(s) were unschedulable";

type Taint = { key: string; value?: string; effect: string };
type Toleration = { key?: string; operator?: string; value?: string; effect?: string };
type Requirement = { key: string; operator: string; values?: string[] };

const INTEGER = /^[+-]?\d+$/;

function spec(o: KObject): any {
  return (o.spec ?? {}) as any;
}

export function nodeReady(node: KObject): boolean {
  return ((node.status as any)?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
}

export function allocatablePods(node: KObject): number {
  const n = Number.parseInt(String((node.status as any)?.allocatable?.pods ?? "0"), 10);
  return Number.isFinite(n) ? n : 0;
}

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if ((t.operator ?? "Equal") === "Exists") return !t.key || t.key === taint.key;
  return t.key === taint.key && (t.value ?? "") === (taint.value ?? "");
}

/** The node's taints, with node.kubernetes.io/not-ready:NoSchedule when it is not Ready (as the node lifecycle controller adds it). */
export function effectiveTaints(node: KObject): Taint[] {
  const taints = [...((spec(node).taints ?? []) as Taint[])];
  if (!nodeReady(node) && !taints.some((t) => t.key === "node.kubernetes.io/not-ready")) taints.push({ key: "node.kubernetes.io/not-ready", effect: "NoSchedule" });
  return taints;
}

function matchRequirement(r: Requirement, value: string | undefined): boolean {
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
      // Integers only, as Go's strconv.ParseInt reads them ("1.5" or "0x10" match nothing).
      if (!INTEGER.test(value) || !INTEGER.test(values[0]!)) return false;
      const [a, b] = [Number(value), Number(values[0])];
      return r.operator === "Gt" ? a > b : a < b;
    }
  }
  return false;
}

/** Whether the node passes the pod's nodeSelector and required node affinity. */
export function matchesNodeAffinity(pod: KObject, node: KObject): boolean {
  const labels = node.metadata.labels ?? {};
  const selector = (spec(pod).nodeSelector ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  const terms = spec(pod).affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms as any[] | undefined;
  if (!terms || terms.length === 0) return true;
  // Terms are ORed; a term's requirements are ANDed; an empty term matches nothing.
  return terms.some((term) => {
    const exprs = (term.matchExpressions ?? []) as Requirement[];
    const fields = (term.matchFields ?? []) as Requirement[];
    if (exprs.length === 0 && fields.length === 0) return false;
    return exprs.every((r) => matchRequirement(r, labels[r.key])) && fields.every((r) => r.key === "metadata.name" && matchRequirement(r, node.metadata.name));
  });
}

/** Why the node cannot take the pod, or undefined when it can. `podsOnNode` counts what is bound or assumed there. */
export function unfit(pod: KObject, node: KObject, podsOnNode: number): string | undefined {
  const tolerations = (spec(pod).tolerations ?? []) as Toleration[];
  if (spec(node).unschedulable === true && !tolerations.some((t) => tolerates(t, { key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }))) return REASON_UNSCHEDULABLE;
  // kube-scheduler's filter order: NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit.
  for (const taint of effectiveTaints(node)) {
    if (taint.effect !== "NoSchedule" && taint.effect !== "NoExecute") continue;
    if (!tolerations.some((t) => tolerates(t, taint))) return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ""}}`;
  }
  if (!matchesNodeAffinity(pod, node)) return REASON_AFFINITY;
  if (podsOnNode + 1 > allocatablePods(node)) return REASON_TOO_MANY_PODS;
  return undefined;
}

/** FailedScheduling's message from each node's reason. */
export function failedSchedulingMessage(reasons: string[], nodeCount: number): string {
  if (nodeCount === 0) return "no nodes available to schedule pods";
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort();
  const victims = reasons.filter((r) => r === REASON_TOO_MANY_PODS).length;
  const helpless = reasons.length - victims;
  const preemption = [...(victims > 0 ? [`${victims} No preemption victims found for incoming pod`] : []), ...(helpless > 0 ? [`${helpless} Preemption is not helpful for scheduling`] : [])].sort();
  return `0/${nodeCount} nodes are available: ${parts.join(", ")}. preemption: 0/${nodeCount} nodes are available: ${preemption.join(", ")}.`;
}
