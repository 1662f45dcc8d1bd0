// The reference's target arithmetic (§3.1, §3.4, §3.5, §3.7), as pure functions of the statistics.
// "short" is always in addresses; "over" is in the unit that would be released (addresses, or prefixes
// under PD). Both use `available` without cooling addresses, see stats.ts.

import type { PoolLimits, PoolStats, PoolTargets, TargetMode } from "./types.ts";

export const IPS_PER_PREFIX = 16;

export interface DerivedLimits {
  /** min(MAX_ENI when ≥ 1, instance ENI limit). */
  readonly maxEnis: number;
  /** Secondary slots per ENI (IPv4Limit - 1): /32s, or /28 prefixes under PD. */
  readonly slotsPerEni: number;
  /** The reference's maxIPsPerENI: slots, times 16 under PD. */
  readonly maxIpsPerEni: number;
}

export function derivedLimits(targets: PoolTargets, limits: PoolLimits): DerivedLimits {
  const maxEnis = targets.maxEni !== null && targets.maxEni >= 1 ? Math.min(targets.maxEni, limits.enis) : limits.enis;
  const slotsPerEni = Math.max(limits.ipv4PerEni - 1, 0);
  const maxIpsPerEni = targets.prefixDelegation ? slotsPerEni * IPS_PER_PREFIX : slotsPerEni;
  return { maxEnis, slotsPerEni, maxIpsPerEni };
}

/** WARM_IP_TARGET and MINIMUM_IP_TARGET override the ENI and prefix targets in both modes. */
export function targetMode(targets: PoolTargets): TargetMode {
  if (targets.warmIpTarget > 0 || targets.minimumIpTarget > 0) return "warm-ip";
  return targets.prefixDelegation ? "warm-prefix" : "warm-eni";
}

/**
 * Statistics as if the waiting allocations already held addresses. `available` may go negative here, which
 * is what sizes the growth to cover every waiter.
 */
export function withWaiting(stats: PoolStats, waiting: number): PoolStats {
  if (waiting <= 0) return stats;
  return { ...stats, assigned: stats.assigned + waiting, available: stats.available - waiting };
}

/** Addresses needed to meet the targets, ignoring max pods. */
export function shortOfTargets(
  mode: TargetMode,
  stats: PoolStats,
  targets: PoolTargets,
  derived: DerivedLimits,
): number {
  switch (mode) {
    case "warm-ip":
      return Math.max(targets.warmIpTarget - stats.available, targets.minimumIpTarget - stats.total, 0);
    case "warm-eni":
      return warmUnitsShort(targets.warmEniTarget, derived.maxIpsPerEni, stats.available);
    case "warm-prefix":
      return warmUnitsShort(targets.warmPrefixTarget, IPS_PER_PREFIX, stats.available);
  }
}

// The reference's WARM_ENI/WARM_PREFIX rule: low iff available < unit × target, or nothing is available
// with a zero target (so a node configured with 0 still serves pods, growing only on demand). `available`
// is negative when more allocations wait than addresses are free.
function warmUnitsShort(target: number, unit: number, available: number): number {
  if (target <= 0) return available <= 0 ? Math.max(-available, 1) : 0;
  return Math.max(unit * target - available, 0);
}

/**
 * Addresses the pool may still add under the max-pods cap. For the warm targets this is the reference's
 * rule (no growth once total ≥ max pods, cooling addresses included), so mass deletes on a full node do
 * not trigger EC2 calls. Waiting allocations may go further: a node at max pods that replaces a pod needs a
 * fresh address while the old one cools, so waiters are served up to max pods *pods*, not addresses.
 */
export function maxPodsRoom(stats: PoolStats, limits: PoolLimits, waiting: number): number {
  const warmRoom = limits.maxPods - stats.total;
  const podSlots = Math.min(waiting, limits.maxPods - stats.assigned);
  return Math.max(warmRoom, podSlots - stats.available, 0);
}

/**
 * Addresses needed to meet the targets, capped at max pods. `stats` are the snapshot's own; `waiting`
 * allocations count as assigned.
 */
export function shortOf(
  mode: TargetMode,
  stats: PoolStats,
  waiting: number,
  targets: PoolTargets,
  limits: PoolLimits,
  derived: DerivedLimits,
): number {
  const wanted = shortOfTargets(mode, withWaiting(stats, waiting), targets, derived);
  return Math.min(wanted, maxPodsRoom(stats, limits, waiting));
}

/** What can be released without going below target: addresses, or prefixes under PD. */
export function overOf(mode: TargetMode, stats: PoolStats, targets: PoolTargets): number {
  switch (mode) {
    case "warm-ip":
      if (!targets.prefixDelegation) {
        return Math.max(
          Math.min(stats.available - targets.warmIpTarget, stats.total - targets.minimumIpTarget),
          0,
        );
      }
      {
        // Whole prefixes kept: enough for every address in use (held or cooling) plus the warm target,
        // and enough for the minimum. Only prefixes with nothing held or cooling can go.
        const used = stats.assigned + stats.cooldown;
        const needWarm = Math.ceil((used + targets.warmIpTarget) / IPS_PER_PREFIX);
        const needMin = Math.ceil(targets.minimumIpTarget / IPS_PER_PREFIX);
        return Math.max(
          Math.min(stats.freePrefixes, stats.prefixes - needWarm, stats.prefixes - needMin),
          0,
        );
      }
    case "warm-prefix":
      return Math.max(stats.freePrefixes - targets.warmPrefixTarget, 0);
    case "warm-eni":
      // The reference never shrinks addresses under WARM_ENI_TARGET; it only frees whole ENIs.
      return 0;
  }
}
