// Which free address the next pod gets. Deterministic packing, where the reference lets Go's map order
// decide (its weakness 5): the serving ENI with the most assigned addresses that still has a free one
// (ties: lowest device number, then ID), then its serving CIDR with the most assigned (ties: lowest
// base), then the lowest address in it that is neither assigned nor cooling. Pods pack onto the
// fullest ENI, so emptied ENIs can be given back.

import { inCooldown, servesNewPods, type CidrRecord, type EniRecord, type ServingMode } from "./records.ts";

export interface Candidate {
  cidr: CidrRecord;
  offset: number;
}

export function selectFreeAddress(enis: Iterable<EniRecord>, mode: ServingMode, now: number): Candidate | undefined {
  const serving = [...enis]
    .filter((e) => !e.spec.isExcluded)
    .sort(
      (a, b) =>
        b.assigned - a.assigned ||
        a.spec.deviceNumber - b.spec.deviceNumber ||
        (a.spec.id < b.spec.id ? -1 : a.spec.id > b.spec.id ? 1 : 0),
    );
  for (const eni of serving) {
    const cidrs = [...eni.cidrs.values()]
      .filter((c) => servesNewPods(c, mode))
      .sort((a, b) => b.assigned - a.assigned || (a.parsed.base < b.parsed.base ? -1 : 1));
    for (const cidr of cidrs) {
      const offset = lowestFree(cidr, now, mode.cooldownMs);
      if (offset !== undefined) return { cidr, offset };
    }
  }
  return undefined;
}

/** The lowest offset in the CIDR that is neither assigned nor cooling. */
function lowestFree(c: CidrRecord, now: number, cooldownMs: number): number | undefined {
  const busy = (offset: number): boolean => {
    const r = c.addresses.get(offset);
    return r !== undefined && (r.holder !== undefined || inCooldown(r, now, cooldownMs));
  };
  // At most one more probe than there are records: this stays cheap for /80s.
  for (let offset = 0; offset < c.parsed.size; offset++) {
    if (!busy(offset)) return offset;
  }
  return undefined;
}
