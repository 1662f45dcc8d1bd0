// The datastore as its readers see it: pool statistics (the reference's GetIPStats) and a plain snapshot
// of every ENI, CIDR and address on record, built from the records in one pass at one clock reading.

import type { IPAMKey, PodMetadata } from "./allocation.ts";
import { coolingIn, inCooldown, servesNewPods, sortedCidrs, type EniRecord, type ServingMode } from "./records.ts";
import type { IpFamily } from "../../net/ip.ts";

/** Counts over serving ENIs (not excluded) and active CIDRs only, like the reference's GetIPStats. */
export interface PoolStats {
  totalIPs: number;
  assignedIPs: number;
  cooldownIPs: number;
  /** Free and out of cooldown: what an ADD can get right now. */
  availableIPs: number;
  /** Prefixes of the datastore's family on serving ENIs, whatever the mode. */
  totalPrefixes: number;
  /** Of those, prefixes with nothing assigned and nothing in cooldown. */
  freePrefixes: number;
}

export interface AddressSnapshot {
  address: string;
  /** Present while assigned. */
  key?: IPAMKey;
  metadata?: PodMetadata;
  assignedAtNs?: bigint;
  /** Clock time of the last release, in ms, while the record is kept. */
  releasedAtMs?: number;
  inCooldown: boolean;
}

export interface CidrSnapshot {
  cidr: string;
  family: IpFamily;
  isPrefix: boolean;
  /** Serves new assignments in the current mode (family, and prefix vs /32) and is not excluded. */
  active: boolean;
  /** Kept only for the pods holding its addresses (EC2 took it away); never serves a new one. */
  excluded: boolean;
  size: number;
  assigned: number;
  cooldown: number;
  /** Assigned addresses and released ones still on record, lowest first. */
  addresses: AddressSnapshot[];
}

export interface EniSnapshot {
  id: string;
  deviceNumber: number;
  routeTableId: number;
  subnetId: string;
  isPrimary: boolean;
  isTrunk: boolean;
  isEFA: boolean;
  isExcluded: boolean;
  /** Clock time the ENI entered the datastore, in ms (minimum ENI lifetime). */
  addedAtMs: number;
  assigned: number;
  cooldown: number;
  /** Lowest base address first. */
  cidrs: CidrSnapshot[];
}

export interface DatastoreSnapshot {
  family: IpFamily;
  prefixDelegation: boolean;
  cooldownMs: number;
  takenAtMs: number;
  stats: PoolStats;
  /** Lowest device number first. */
  enis: EniSnapshot[];
}

export function statsOf(enis: Iterable<EniRecord>, mode: ServingMode, now: number): PoolStats {
  const s: PoolStats = { totalIPs: 0, assignedIPs: 0, cooldownIPs: 0, availableIPs: 0, totalPrefixes: 0, freePrefixes: 0 };
  for (const eni of enis) {
    if (eni.spec.isExcluded) continue;
    for (const c of eni.cidrs.values()) {
      if (c.parsed.family !== mode.family || c.excluded) continue;
      const cooling = coolingIn(c, now, mode.cooldownMs);
      if (c.isPrefix) {
        s.totalPrefixes++;
        if (c.assigned === 0 && cooling === 0) s.freePrefixes++;
      }
      if (!servesNewPods(c, mode)) continue;
      s.totalIPs += c.parsed.size;
      s.assignedIPs += c.assigned;
      s.cooldownIPs += cooling;
    }
  }
  s.availableIPs = s.totalIPs - s.assignedIPs - s.cooldownIPs;
  return s;
}

export function snapshotOf(enis: Iterable<EniRecord>, mode: ServingMode, now: number): DatastoreSnapshot {
  const records = [...enis];
  const eniSnapshots = records
    .sort((a, b) => a.spec.deviceNumber - b.spec.deviceNumber || (a.spec.id < b.spec.id ? -1 : 1))
    .map((eni): EniSnapshot => {
      const cidrs = sortedCidrs(eni).map((c): CidrSnapshot => {
        const addresses = [...c.addresses.values()]
          .sort((a, b) => a.offset - b.offset)
          .map((r): AddressSnapshot => {
            const a: AddressSnapshot = { address: r.address, inCooldown: inCooldown(r, now, mode.cooldownMs) };
            if (r.holder !== undefined) {
              a.key = { ...r.holder.key };
              a.metadata = { ...r.holder.metadata };
              a.assignedAtNs = r.holder.assignedAtNs;
            }
            if (r.releasedAtMs !== undefined) a.releasedAtMs = r.releasedAtMs;
            return a;
          });
        return {
          cidr: c.parsed.text,
          family: c.parsed.family,
          isPrefix: c.isPrefix,
          active: servesNewPods(c, mode),
          excluded: c.excluded,
          size: c.parsed.size,
          assigned: c.assigned,
          cooldown: coolingIn(c, now, mode.cooldownMs),
          addresses,
        };
      });
      return {
        ...eni.spec,
        addedAtMs: eni.addedAtMs,
        assigned: eni.assigned,
        cooldown: cidrs.reduce((n, c) => n + c.cooldown, 0),
        cidrs,
      };
    });
  return {
    family: mode.family,
    prefixDelegation: mode.prefixDelegation,
    cooldownMs: mode.cooldownMs,
    takenAtMs: now,
    stats: statsOf(records, mode, now),
    enis: eniSnapshots,
  };
}
