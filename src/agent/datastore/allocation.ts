// What the datastore hands out and takes in: the CNI key of an allocation, the pod it is for, the ENIs
// it is given, and the allocations it returns.

import type { IpFamily } from "../../net/ip.ts";

/** The CNI primary key of an allocation: (network name, CNI_CONTAINERID, CNI_IFNAME). */
export interface IPAMKey {
  networkName: string;
  containerID: string;
  ifName: string;
}

export interface PodMetadata {
  k8sPodNamespace: string;
  k8sPodName: string;
  /** Kept in memory only: the reference's checkpoint has no field for it. Empty after a restore. */
  k8sPodUID: string;
  /** Number of interfaces (multi-NIC); 0 means unknown, as in entries restored from old checkpoints. */
  interfacesCount: number;
}

export interface EniSpec {
  id: string;
  deviceNumber: number;
  routeTableId: number;
  subnetId?: string;
  isPrimary?: boolean;
  isTrunk?: boolean;
  isEFA?: boolean;
  /** Subnet excluded from pod addresses (reference: IsExcludedForPodIPs). */
  isExcluded?: boolean;
}

export interface Allocation {
  key: IPAMKey;
  metadata: PodMetadata;
  address: string;
  family: IpFamily;
  cidr: string;
  eniId: string;
  deviceNumber: number;
  routeTableId: number;
  /** Unix nanoseconds; a bigint because 19 digits do not fit a Number. */
  assignedAtNs: bigint;
}

export interface AssignResult extends Allocation {
  /** True when the key already held this address (a retried ADD). */
  reused: boolean;
}

export interface ReleaseResult extends Allocation {
  /** metadata.interfacesCount with 0 read as 1, as the reference returns it. */
  interfacesCount: number;
  /** True when found only under the legacy CRI-migration key. */
  legacyKey: boolean;
}

export interface RemovalResult {
  /** Allocations that were on the removed CIDR or ENI (non-empty only when forced). */
  affected: Allocation[];
}

/** An allocation to take over as is (checkpoint restore). */
export interface AdoptRequest {
  key: IPAMKey;
  address: string;
  metadata: PodMetadata;
  assignedAtNs: bigint;
}
