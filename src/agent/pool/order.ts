// Deterministic orders over ENIs and CIDRs. The reference walks Go maps, so which ENI gives a pod its
// address, which ENI is grown and which is freed is random, and fragmentation keeps ENIs attached (its
// known weakness 5). Here pods are packed onto the fullest ENI and CIDR, growth goes where pods already are,
// and shrinking takes from the emptiest ENIs, so idle ENIs and prefixes appear and can be given back.

import type { CidrSnapshot, EniSnapshot } from "./types.ts";
import { eniAssigned } from "./stats.ts";

export interface FillOrderKey {
  readonly deviceNumber: number;
  readonly assigned: number;
}

/** Fullest first; ties go to the lower device number, so the primary ENI (device 0) fills first. */
export function compareFullestFirst(a: FillOrderKey, b: FillOrderKey): number {
  return b.assigned - a.assigned || a.deviceNumber - b.deviceNumber;
}

/** Emptiest first; ties go to the higher device number, the most recently attached slot. */
export function compareEmptiestFirst(a: FillOrderKey, b: FillOrderKey): number {
  return a.assigned - b.assigned || b.deviceNumber - a.deviceNumber;
}

function keyed(eni: EniSnapshot): { eni: EniSnapshot; deviceNumber: number; assigned: number } {
  return { eni, deviceNumber: eni.deviceNumber, assigned: eniAssigned(eni) };
}

/**
 * The order in which the datastore should look for a pod address: ENIs that may give pod addresses
 * (excluded ones dropped), fullest first, ties by device number.
 */
export function eniFillOrder(enis: readonly EniSnapshot[]): EniSnapshot[] {
  return enis
    .filter((eni) => !eni.excluded)
    .map(keyed)
    .sort(compareFullestFirst)
    .map((k) => k.eni);
}

/** Numeric value of a CIDR's base address; unparsable text sorts last rather than throwing. */
export function cidrBase(cidr: string): number {
  const parts = cidr.split("/")[0]?.split(".") ?? [];
  if (parts.length !== 4) return Number.MAX_SAFE_INTEGER;
  let value = 0;
  for (const part of parts) {
    const octet = Number(part);
    if (!Number.isInteger(octet) || octet < 0 || octet > 255) return Number.MAX_SAFE_INTEGER;
    value = value * 256 + octet;
  }
  return value;
}

/**
 * Within one ENI: the CIDR with the most assigned addresses first, then by address. Under PD this packs pods
 * into a prefix before starting the next one, which keeps whole prefixes free for release.
 */
export function cidrFillOrder(cidrs: readonly CidrSnapshot[]): CidrSnapshot[] {
  return [...cidrs].sort((a, b) => b.assigned - a.assigned || cidrBase(a.cidr) - cidrBase(b.cidr));
}

/** Where new addresses go: ENIs that can take them, fullest first. */
export function growthOrder(enis: readonly EniSnapshot[]): EniSnapshot[] {
  return enis
    .filter((eni) => !eni.excluded && !eni.trunk)
    .map(keyed)
    .sort(compareFullestFirst)
    .map((k) => k.eni);
}

/** Where free CIDRs are taken back from: the emptiest ENIs first, so pods stay packed on the full ones. */
export function releaseOrder(enis: readonly EniSnapshot[]): EniSnapshot[] {
  return enis
    .map(keyed)
    .sort(compareEmptiestFirst)
    .map((k) => k.eni);
}

/**
 * Among idle ENIs (no pod, nothing cooling): the ones holding the fewest addresses first, since giving them
 * up costs the warm pool least, then the most recently attached.
 */
export function freeOrder(enis: readonly EniSnapshot[]): EniSnapshot[] {
  const size = (eni: EniSnapshot): number => eni.cidrs.reduce((sum, cidr) => sum + cidr.size, 0);
  return [...enis].sort((a, b) => size(a) - size(b) || b.deviceNumber - a.deviceNumber);
}
