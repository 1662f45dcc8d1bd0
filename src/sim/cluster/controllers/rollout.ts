// A Deployment's rolling update as arithmetic (pkg/controller/deployment/rolling.go and
// util/deployment_util.go): maxSurge and maxUnavailable resolved against replicas (surge rounded
// up, unavailable down, never both 0), how far the new ReplicaSet may grow, and how many old pods
// may go without dropping below the minimum available.

import { isPlainObject } from "../../kube/objects.ts";

export interface RolloutLimits {
  maxSurge: number;
  maxUnavailable: number;
}

/** An int-or-percent value ("25%" or 2) against a total; percentages round up or down. */
export function scaledValue(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === "number") return Math.max(0, Math.floor(value));
  if (typeof value === "string") {
    const m = /^(\d+)%$/.exec(value);
    if (m) {
      const exact = (Number(m[1]) * total) / 100;
      return roundUp ? Math.ceil(exact) : Math.floor(exact);
    }
    if (/^\d+$/.test(value)) return Number(value);
  }
  return 0;
}

export function rolloutLimits(strategy: unknown, replicas: number): RolloutLimits {
  const ru = isPlainObject(strategy) && isPlainObject(strategy.rollingUpdate) ? strategy.rollingUpdate : {};
  const maxSurge = scaledValue(ru.maxSurge ?? "25%", replicas, true);
  let maxUnavailable = scaledValue(ru.maxUnavailable ?? "25%", replicas, false);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, replicas) };
}

export interface ReplicaSetView {
  /** spec.replicas */
  replicas: number;
  /** status.availableReplicas */
  available: number;
}

/** The new ReplicaSet's spec.replicas for this pass (NewRSNewReplicas). */
export function newReplicaSetReplicas(replicas: number, limits: RolloutLimits, newRs: ReplicaSetView, all: ReplicaSetView[]): number {
  if (newRs.replicas >= replicas) return replicas;
  const total = all.reduce((sum, rs) => sum + rs.replicas, 0);
  const maxTotal = replicas + limits.maxSurge;
  if (total >= maxTotal) return newRs.replicas;
  return newRs.replicas + Math.min(maxTotal - total, replicas - newRs.replicas);
}

/**
 * How many old pods may be scaled away in this pass (reconcileOldReplicaSets): first the old
 * ReplicaSets' unavailable pods, then as many available ones as keep replicas - maxUnavailable
 * available. Returns the new spec.replicas of each old ReplicaSet, in the order given (oldest first).
 */
export function scaleDownOld(replicas: number, limits: RolloutLimits, newRs: ReplicaSetView, old: ReplicaSetView[]): number[] {
  const next = old.map((rs) => rs.replicas);
  const oldTotal = next.reduce((a, b) => a + b, 0);
  if (oldTotal === 0) return next;
  const allPods = oldTotal + newRs.replicas;
  const minAvailable = replicas - limits.maxUnavailable;
  const newUnavailable = Math.max(0, newRs.replicas - newRs.available);
  let budget = allPods - minAvailable - newUnavailable;
  if (budget <= 0) return next;
  // Unhealthy old pods go first: they hold no availability.
  old.forEach((rs, i) => {
    if (budget <= 0) return;
    const unhealthy = Math.max(0, next[i]! - rs.available);
    const cut = Math.min(unhealthy, budget);
    next[i]! -= cut;
    budget -= cut;
  });
  const available = old.reduce((sum, rs, i) => sum + Math.min(rs.available, next[i]!), 0) + newRs.available;
  let scaleDown = Math.min(budget, available - minAvailable);
  old.forEach((_rs, i) => {
    if (scaleDown <= 0) return;
    const cut = Math.min(next[i]!, scaleDown);
    next[i]! -= cut;
    scaleDown -= cut;
  });
  return next;
}
