// What a workload controller reads from its pods: active (counts toward replicas), ready (its
// Ready condition is True) and available (ready for at least minReadySeconds), as
// k8s.io/kubernetes/pkg/controller and podutil define them.

import { isPlainObject, type KObject } from "../../kube/objects.ts";

interface Condition {
  type?: string;
  status?: string;
  lastTransitionTime?: string;
}

function readyCondition(pod: KObject): Condition | undefined {
  const status = isPlainObject(pod.status) ? pod.status : {};
  const conditions = Array.isArray(status.conditions) ? (status.conditions as Condition[]) : [];
  return conditions.find((c) => c.type === "Ready");
}

export function podPhase(pod: KObject): string {
  const status = isPlainObject(pod.status) ? pod.status : {};
  return typeof status.phase === "string" ? status.phase : "Pending";
}

/** Not terminating and not finished: it counts toward the workload's replicas. */
export function isPodActive(pod: KObject): boolean {
  const phase = podPhase(pod);
  return phase !== "Succeeded" && phase !== "Failed" && pod.metadata.deletionTimestamp === undefined;
}

export function isPodReady(pod: KObject): boolean {
  return readyCondition(pod)?.status === "True";
}

/** Ready for minReadySeconds by `now`. */
export function isPodAvailable(pod: KObject, minReadySeconds: number, now: number): boolean {
  const ready = readyCondition(pod);
  if (ready?.status !== "True") return false;
  if (minReadySeconds <= 0) return true;
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : NaN;
  return Number.isFinite(since) && since + minReadySeconds * 1000 <= now;
}

/** When a ready pod that is not yet available becomes available (for requeueing), else undefined. */
export function availableAt(pod: KObject, minReadySeconds: number): number | undefined {
  const ready = readyCondition(pod);
  if (ready?.status !== "True" || minReadySeconds <= 0 || !ready.lastTransitionTime) return undefined;
  const since = Date.parse(ready.lastTransitionTime);
  return Number.isFinite(since) ? since + minReadySeconds * 1000 : undefined;
}

function nodeName(pod: KObject): string {
  const spec = isPlainObject(pod.spec) ? pod.spec : {};
  return typeof spec.nodeName === "string" ? spec.nodeName : "";
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * Pods ordered as the ReplicaSet controller deletes them when scaling down (ActivePods' Less):
 * unassigned before assigned, Pending before Unknown before Running, not ready before ready,
 * then the newest first.
 */
export function deletionOrder(a: KObject, b: KObject): number {
  const an = nodeName(a) === "" ? 0 : 1;
  const bn = nodeName(b) === "" ? 0 : 1;
  if (an !== bn) return an - bn;
  const ap = PHASE_RANK[podPhase(a)] ?? 0;
  const bp = PHASE_RANK[podPhase(b)] ?? 0;
  if (ap !== bp) return ap - bp;
  const ar = isPodReady(a) ? 1 : 0;
  const br = isPodReady(b) ? 1 : 0;
  if (ar !== br) return ar - br;
  return (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? "");
}
