// planPool: one decision over a snapshot. Growth and shrinking never mix: a pool short of target only grows
// (releasing would be undone at once), a pool at or over target only shrinks. Housekeeping releases of
// inactive or excluded CIDRs ride along with either.

import type { PoolLimits, PoolPlan, PoolSnapshot, PoolTargets, ReleaseAction } from "./types.ts";
import { statsOf } from "./stats.ts";
import {
  derivedLimits,
  maxPodsRoom,
  overOf,
  shortOf,
  shortOfTargets,
  targetMode,
  withWaiting,
} from "./targets.ts";
import { planGrowth } from "./grow.ts";
import { mergeReleases, planHousekeeping, planShrink } from "./shrink.ts";

export function planPool(
  snapshot: PoolSnapshot,
  targets: PoolTargets,
  limits: PoolLimits,
  now: number,
): PoolPlan {
  const derived = derivedLimits(targets, limits);
  const mode = targetMode(targets);
  const stats = statsOf(snapshot.enis, now, targets.ipCooldownMs, targets.prefixDelegation);
  const waiting = Math.max(snapshot.waiting ?? 0, 0);
  const short = shortOf(mode, stats, waiting, targets, limits, derived);
  const over = waiting > 0 ? 0 : overOf(mode, stats, targets);
  const base = { mode, stats, short, over };
  const numbers =
    `available ${stats.available}, assigned ${stats.assigned}, cooldown ${stats.cooldown}, total ${stats.total}` +
    (waiting > 0 ? `, waiting ${waiting}` : "") +
    (targets.prefixDelegation ? `, prefixes ${stats.prefixes} (${stats.freePrefixes} free)` : "") +
    `, ENIs ${stats.enis}/${derived.maxEnis}; ${describeTargets(mode, targets)}`;

  if (short > 0) {
    const growth = planGrowth(
      snapshot.enis,
      short,
      mode,
      targets.prefixDelegation,
      maxPodsRoom(stats, limits, waiting),
      limits,
      derived,
    );
    const release = mergeReleases(planHousekeeping(snapshot.enis, targets, now));
    const unmet = Math.max(short - growth.added, 0);
    const actions = [
      ...growth.assign.map((a) => `assign ${countText(a)} to ${a.eniId}`),
      ...growth.createEnis.map((c) => `create ENI with ${countText(c)}`),
      ...releaseText(release),
    ];
    const limit = growth.atEniLimit ? `; at the ENI limit, ${unmet} short after this` : "";
    return {
      ...base,
      unmet,
      assign: growth.assign,
      createEnis: growth.createEnis,
      release,
      freeEnis: [],
      reason: `short ${short} addresses (${numbers})${limit}: ${actions.join(", ") || "nothing possible"}`,
    };
  }

  // Never shrink while allocations wait (they are waiting at max pods, or on ENIs being freed up).
  const shrink =
    waiting > 0
      ? { freeEnis: [], release: [], remaining: [...snapshot.enis] }
      : planShrink(snapshot.enis, mode, targets, limits, derived, now);
  const release = mergeReleases([...shrink.release, ...planHousekeeping(shrink.remaining, targets, now)]);
  const actions = [...shrink.freeEnis.map((id) => `free ${id}`), ...releaseText(release)];
  const capped = shortOfTargets(mode, withWaiting(stats, waiting), targets, derived) > 0 ? " (at max pods)" : "";
  const state = over > 0 ? `over by ${over} ${targets.prefixDelegation ? "prefixes" : "addresses"}` : "at target";
  return {
    ...base,
    unmet: 0,
    assign: [],
    createEnis: [],
    release,
    freeEnis: shrink.freeEnis,
    reason: `${state}${capped} (${numbers})${actions.length > 0 ? `: ${actions.join(", ")}` : ""}`,
  };
}

/** Nothing to do: the caller can sleep until the next trigger. */
export function isPlanEmpty(plan: PoolPlan): boolean {
  return (
    plan.assign.length === 0 &&
    plan.createEnis.length === 0 &&
    plan.release.length === 0 &&
    plan.freeEnis.length === 0
  );
}

function countText(request: { ipCount?: number | undefined; prefixCount?: number | undefined }): string {
  return request.prefixCount !== undefined ? `${request.prefixCount} prefixes` : `${request.ipCount ?? 0} IPs`;
}

function releaseText(release: readonly ReleaseAction[]): string[] {
  return release.map((r) => `release ${r.cidrs.length} ${r.prefixes ? "prefixes" : "IPs"} from ${r.eniId}`);
}

function describeTargets(mode: PoolPlan["mode"], targets: PoolTargets): string {
  switch (mode) {
    case "warm-ip":
      return `WARM_IP_TARGET=${targets.warmIpTarget} MINIMUM_IP_TARGET=${targets.minimumIpTarget}`;
    case "warm-eni":
      return `WARM_ENI_TARGET=${targets.warmEniTarget}`;
    case "warm-prefix":
      return `WARM_PREFIX_TARGET=${targets.warmPrefixTarget}`;
  }
}
