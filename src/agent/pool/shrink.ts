// Shrinking (reference §3.7): free whole ENIs first, then release free CIDRs down to target. Unlike the
// reference, nothing with a cooling address is ever returned to EC2 (weakness 3: it could hand a
// just-deleted pod's address to another instance while conntrack and peers still point at it), every
// ENI that is no longer needed goes in one decision rather than one per tick, and the choice of ENIs and
// CIDRs is deterministic (emptiest first) instead of Go map order.

import type { EniSnapshot, PoolLimits, PoolTargets, ReleaseAction, TargetMode } from "./types.ts";
import { freeOrder, releaseOrder, cidrBase } from "./order.ts";
import { isActiveCidr, isCidrReleasable, isEniIdle, statsOf } from "./stats.ts";
import { overOf, shortOf, type DerivedLimits } from "./targets.ts";

export interface ShrinkPlan {
  readonly freeEnis: string[];
  readonly release: ReleaseAction[];
  /** The ENIs left once `freeEnis` are gone. */
  readonly remaining: EniSnapshot[];
}

/** ENIs the agent may detach at all: its own, old enough, with nothing held or cooling. */
function isFreeable(eni: EniSnapshot, targets: PoolTargets, now: number): boolean {
  return (
    !eni.primary &&
    !eni.trunk &&
    !eni.efa &&
    now - eni.createdAt >= targets.minEniAgeMs &&
    isEniIdle(eni, now, targets.ipCooldownMs)
  );
}

export function planShrink(
  enis: readonly EniSnapshot[],
  mode: TargetMode,
  targets: PoolTargets,
  limits: PoolLimits,
  derived: DerivedLimits,
  now: number,
): ShrinkPlan {
  const pd = targets.prefixDelegation;
  const stats = (list: readonly EniSnapshot[]) => statsOf(list, now, targets.ipCooldownMs, pd);
  const freeEnis: string[] = [];
  let remaining = [...enis];

  for (const candidate of freeOrder(enis.filter((eni) => isFreeable(eni, targets, now)))) {
    const before = stats(remaining);
    // The reference's hysteresis under WARM_ENI_TARGET: only with a whole extra ENI's worth available.
    if (mode === "warm-eni" && before.available < (targets.warmEniTarget + 1) * derived.maxIpsPerEni) continue;
    const without = remaining.filter((eni) => eni !== candidate);
    const after = stats(without);
    // Freeing must not leave the pool short, or the next decision would grow it straight back.
    if (shortOf(mode, after, 0, targets, limits, derived) > 0) continue;
    if (mode === "warm-prefix" && after.freePrefixes < targets.warmPrefixTarget) continue;
    freeEnis.push(candidate.id);
    remaining = without;
  }

  const release: ReleaseAction[] = [];
  let over = overOf(mode, stats(remaining), targets);
  for (const eni of releaseOrder(remaining.filter((e) => !e.excluded))) {
    if (over <= 0) break;
    const cidrs = eni.cidrs
      .filter((cidr) => isActiveCidr(cidr, pd) && isCidrReleasable(cidr, now, targets.ipCooldownMs))
      .map((cidr) => cidr.cidr)
      .sort((a, b) => cidrBase(a) - cidrBase(b))
      .slice(0, over);
    if (cidrs.length === 0) continue;
    release.push({ eniId: eni.id, prefixes: pd, cidrs });
    over -= cidrs.length;
  }

  return { freeEnis, release, remaining };
}

/**
 * Releases that do not depend on targets: CIDRs of the inactive kind left from a PD toggle, and the free
 * CIDRs of excluded ENIs (reference §4.3, §8). Idle ones only, as everywhere.
 */
export function planHousekeeping(
  enis: readonly EniSnapshot[],
  targets: PoolTargets,
  now: number,
): ReleaseAction[] {
  const release: ReleaseAction[] = [];
  for (const eni of enis) {
    for (const prefixes of [false, true]) {
      const active = prefixes === targets.prefixDelegation;
      if (active && !eni.excluded) continue;
      const cidrs = eni.cidrs
        .filter((cidr) => cidr.isPrefix === prefixes && isCidrReleasable(cidr, now, targets.ipCooldownMs))
        .map((cidr) => cidr.cidr)
        .sort((a, b) => cidrBase(a) - cidrBase(b));
      if (cidrs.length > 0) release.push({ eniId: eni.id, prefixes, cidrs });
    }
  }
  return release;
}

/** One action per (ENI, kind), so the caller makes one UnassignPrivateIpAddresses call for each. */
export function mergeReleases(actions: readonly ReleaseAction[]): ReleaseAction[] {
  const merged = new Map<string, { eniId: string; prefixes: boolean; cidrs: string[] }>();
  for (const action of actions) {
    const key = `${action.eniId}\u0000${action.prefixes}`;
    const entry = merged.get(key);
    if (entry === undefined) merged.set(key, { ...action, cidrs: [...action.cidrs] });
    else for (const cidr of action.cidrs) if (!entry.cidrs.includes(cidr)) entry.cidrs.push(cidr);
  }
  return [...merged.values()];
}
