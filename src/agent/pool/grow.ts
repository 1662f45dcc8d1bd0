// Growth placement (reference §3.6), sized to the whole shortfall in one decision. The reference touches one
// ENI per 5 s tick, so a node short by three ENIs' worth needs three ticks while ADDs fail (weakness 6).
// Here existing ENIs are filled first (fullest first), then as many ENIs are created as the shortfall needs
// and the ENI limit allows; never more than the targets require.

import type { AssignAction, CreateEniAction, EniSnapshot, PoolLimits, TargetMode } from "./types.ts";
import { growthOrder } from "./order.ts";
import { IPS_PER_PREFIX, type DerivedLimits } from "./targets.ts";

export interface GrowthPlan {
  readonly assign: AssignAction[];
  readonly createEnis: CreateEniAction[];
  /** Addresses the plan adds if it all succeeds. */
  readonly added: number;
  /** The ENI count (managed + unmanaged + trunk reserve) stopped growth. */
  readonly atEniLimit: boolean;
}

/**
 * Whether one more ENI fits: the reference's hasRoomForEni, counting the ENIs this plan already creates.
 * Excluded, trunk and EFA ENIs all occupy a slot.
 */
export function hasRoomForEni(
  enis: readonly EniSnapshot[],
  planned: number,
  limits: PoolLimits,
  derived: DerivedLimits,
): boolean {
  const trunkReserve = limits.reserveTrunkSlot && !enis.some((eni) => eni.trunk) ? 1 : 0;
  return enis.length + planned + limits.unmanagedEnis + trunkReserve < derived.maxEnis;
}

/**
 * Place `short` addresses. Under WARM_ENI_TARGET the reference's unit is a whole ENI: an ENI it touches is
 * filled completely, and a new one is created full; that is kept (the worked examples depend on it), but
 * capped at max pods. Otherwise exactly the shortfall is asked for: /32s, or the prefixes that cover it.
 */
export function planGrowth(
  enis: readonly EniSnapshot[],
  short: number,
  mode: TargetMode,
  prefixDelegation: boolean,
  maxPodsRoom: number,
  limits: PoolLimits,
  derived: DerivedLimits,
): GrowthPlan {
  const assign: AssignAction[] = [];
  const createEnis: CreateEniAction[] = [];
  const unitSize = prefixDelegation ? IPS_PER_PREFIX : 1;
  const need = Math.ceil(short / unitSize);
  const wholeEnis = mode === "warm-eni" && !prefixDelegation;
  let added = 0;
  // Under WARM_ENI the fill may exceed the shortfall, but never max pods.
  let budget = wholeEnis ? Math.max(maxPodsRoom, need) : need;
  const take = (room: number): number => Math.min(room, wholeEnis ? budget : need - added);
  const request = (count: number): { ipCount: number } | { prefixCount: number } =>
    prefixDelegation ? { prefixCount: count } : { ipCount: count };

  for (const eni of growthOrder(enis)) {
    if (added >= need) break;
    // EC2 counts /32s and prefixes against the same per-ENI limit, whichever mode is active.
    const room = derived.slotsPerEni - eni.cidrs.length;
    const count = take(room);
    if (count <= 0) continue;
    assign.push({ eniId: eni.id, ...request(count) });
    added += count;
    budget -= count;
  }

  let atEniLimit = false;
  while (added < need) {
    if (!hasRoomForEni(enis, createEnis.length, limits, derived)) {
      atEniLimit = true;
      break;
    }
    const count = take(derived.slotsPerEni);
    if (count <= 0) break;
    createEnis.push(request(count));
    added += count;
    budget -= count;
  }

  return { assign, createEnis, added: added * unitSize, atEniLimit };
}
