// Pool statistics (reference §3.3), with one deliberate change: addresses in cooldown are not available.
// The reference counts them as available, so after a burst of deletes the pool looks healthy while no
// address can be handed out and ADDs fail for up to IP_COOLDOWN_PERIOD (its known weakness 3).

import type { CidrSnapshot, EniSnapshot, PoolSnapshot, PoolStats } from "./types.ts";

/** Free addresses of `cidr` released less than `cooldownMs` ago. */
export function coolingAddresses(cidr: CidrSnapshot, now: number, cooldownMs: number): number {
  let cooling = 0;
  for (const at of cidr.unassignedAt) {
    if (now - at < cooldownMs) cooling++;
  }
  // A datastore bug must not make the pool believe in negative free space.
  return Math.min(cooling, Math.max(cidr.size - cidr.assigned, 0));
}

/** No pod holds it and none of its addresses is cooling: EC2 may have it back. */
export function isCidrReleasable(cidr: CidrSnapshot, now: number, cooldownMs: number): boolean {
  return cidr.assigned === 0 && coolingAddresses(cidr, now, cooldownMs) === 0;
}

/** Assigned addresses on the ENI, whatever the CIDR kind: this is what "full" means for ordering. */
export function eniAssigned(eni: EniSnapshot): number {
  let assigned = 0;
  for (const cidr of eni.cidrs) assigned += cidr.assigned;
  return assigned;
}

/** Nothing on the ENI is held or cooling, so detaching it cannot hurt a pod or reuse a fresh address. */
export function isEniIdle(eni: EniSnapshot, now: number, cooldownMs: number): boolean {
  return eni.cidrs.every((cidr) => isCidrReleasable(cidr, now, cooldownMs));
}

/** CIDRs that count for the active mode: prefixes under PD, /32s otherwise. */
export function isActiveCidr(cidr: CidrSnapshot, prefixDelegation: boolean): boolean {
  return cidr.isPrefix === prefixDelegation;
}

/** Statistics over a list of ENIs; the policy also evaluates hypothetical pools (an ENI taken away). */
export function statsOf(
  enis: readonly EniSnapshot[],
  now: number,
  cooldownMs: number,
  prefixDelegation: boolean,
): PoolStats {
  let total = 0;
  let assigned = 0;
  let cooldown = 0;
  let prefixes = 0;
  let freePrefixes = 0;
  for (const eni of enis) {
    if (eni.excluded) continue;
    for (const cidr of eni.cidrs) {
      if (!isActiveCidr(cidr, prefixDelegation)) continue;
      const cooling = coolingAddresses(cidr, now, cooldownMs);
      total += cidr.size;
      assigned += cidr.assigned;
      cooldown += cooling;
      if (cidr.isPrefix) {
        prefixes++;
        if (cidr.assigned === 0 && cooling === 0) freePrefixes++;
      }
    }
  }
  return {
    total,
    assigned,
    cooldown,
    available: Math.max(total - assigned - cooldown, 0),
    prefixes,
    freePrefixes,
    enis: enis.length,
  };
}

export function poolStats(
  snapshot: PoolSnapshot,
  now: number,
  cooldownMs: number,
  prefixDelegation: boolean,
): PoolStats {
  return statsOf(snapshot.enis, now, cooldownMs, prefixDelegation);
}
