// The datastore's records, ENI -> CIDR -> address, and what follows from one record alone: its
// cooldown, whether it serves new pods, and the allocation and checkpoint entry it stands for. The
// Datastore class owns the records; the snapshot and the packing policy read them.

import type { CheckpointEntry } from "./checkpoint-format.ts";
import type { Allocation, EniSpec, IPAMKey, PodMetadata } from "./allocation.ts";
import type { IpFamily, ParsedCidr } from "../../net/ip.ts";

export interface AddressRecord {
  offset: number;
  address: string;
  cidr: CidrRecord;
  /** Set while assigned. */
  holder?: Holder;
  /** Set once released; the cooldown runs from here. */
  releasedAtMs?: number;
}

export interface Holder {
  key: IPAMKey;
  metadata: PodMetadata;
  assignedAtNs: bigint;
}

export interface CidrRecord {
  parsed: ParsedCidr;
  isPrefix: boolean;
  eni: EniRecord;
  /** Only addresses that are assigned or were released (cooldown bookkeeping); keyed by offset. */
  addresses: Map<number, AddressRecord>;
  assigned: number;
  /** See CidrSnapshot.excluded. */
  excluded: boolean;
}

export interface EniRecord {
  spec: Required<EniSpec>;
  addedAtMs: number;
  cidrs: Map<string, CidrRecord>;
  assigned: number;
}

/** What decides which CIDRs serve and for how long a released address cools. */
export interface ServingMode {
  readonly family: IpFamily;
  readonly prefixDelegation: boolean;
  readonly cooldownMs: number;
}

export const keyString = (k: IPAMKey): string => JSON.stringify([k.networkName, k.containerID, k.ifName]);

export function msToNs(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}

export function inCooldown(r: AddressRecord, now: number, cooldownMs: number): boolean {
  return r.holder === undefined && r.releasedAtMs !== undefined && now < r.releasedAtMs + cooldownMs;
}

/** Number of released addresses of a CIDR still in cooldown. */
export function coolingIn(c: CidrRecord, now: number, cooldownMs: number): number {
  let n = 0;
  for (const r of c.addresses.values()) if (inCooldown(r, now, cooldownMs)) n++;
  return n;
}

/** Serves new assignments: the mode's family and kind (prefix or /32; IPv6 is prefixes only), not excluded. */
export function servesNewPods(c: CidrRecord, mode: ServingMode): boolean {
  if (c.parsed.family !== mode.family || c.excluded) return false;
  return mode.family === "6" ? c.isPrefix : c.isPrefix === mode.prefixDelegation;
}

/** An ENI's CIDRs, IPv4 first, lowest base first. */
export function sortedCidrs(eni: EniRecord): CidrRecord[] {
  return [...eni.cidrs.values()].sort((a, b) =>
    a.parsed.family !== b.parsed.family ? (a.parsed.family < b.parsed.family ? -1 : 1) : a.parsed.base < b.parsed.base ? -1 : 1,
  );
}

export function allocationOf(r: AddressRecord): Allocation {
  const holder = r.holder as Holder;
  const eni = r.cidr.eni.spec;
  return {
    key: { ...holder.key },
    metadata: { ...holder.metadata },
    address: r.address,
    family: r.cidr.parsed.family,
    cidr: r.cidr.parsed.text,
    eniId: eni.id,
    deviceNumber: eni.deviceNumber,
    routeTableId: eni.routeTableId,
    assignedAtNs: holder.assignedAtNs,
  };
}

/** The allocations held in a CIDR, lowest address first. */
export function assignedIn(c: CidrRecord): Allocation[] {
  return [...c.addresses.values()]
    .filter((r) => r.holder !== undefined)
    .sort((a, b) => a.offset - b.offset)
    .map(allocationOf);
}

/** The checkpoint's entry for an assigned address, as the reference writes it. */
export function checkpointEntry(address: string, family: IpFamily, holder: Holder): CheckpointEntry {
  const e: CheckpointEntry = {
    networkName: holder.key.networkName,
    containerID: holder.key.containerID,
    ifName: holder.key.ifName,
    allocationTimestamp: holder.assignedAtNs,
    metadata: {},
  };
  if (family === "4") e.ipv4 = address;
  else e.ipv6 = address;
  const m = holder.metadata;
  if (m.k8sPodNamespace) e.metadata.k8sPodNamespace = m.k8sPodNamespace;
  if (m.k8sPodName) e.metadata.k8sPodName = m.k8sPodName;
  if (m.interfacesCount) e.metadata.interfacesCount = m.interfacesCount;
  return e;
}
