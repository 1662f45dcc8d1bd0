// The node's address datastore: ENIs -> CIDRs (/32 secondary IPs, /28 or /80
// prefixes) -> addresses, and which pod holds which address.
//
// Differences from the reference's datastore (pkg/ipamd/datastore), on purpose:
// - Selection is deterministic and packs pods: the ENI with the most assigned
//   addresses that can still serve, then the fullest CIDR in it, then the lowest
//   free address (reference weakness 5: Go map order decided).
// - Addresses in cooldown are neither handed out nor counted as available
//   (weakness 3), and removing their CIDR does not end the cooldown: if the
//   CIDR comes back soon, they still cool (a forced removal starts one).
// - A change is persisted before it is applied: the full allocation list is
//   handed to `persist` and only if that returns is memory updated. Memory
//   therefore never holds an allocation the checkpoint lacks, and a failed
//   write leaves the datastore exactly as it was (the reference mutates, writes
//   and unwinds).
// - Everything is synchronous: between the write and the commit nothing else
//   can run, which is what the reference's mutex buys it.
//
// No I/O here: the clock and the persistence are injected. This file holds the changes; the records
// and what one record tells (records.ts), the packing policy (selection.ts) and the readers' view
// (snapshot.ts) sit beside it.

import type { CheckpointData, CheckpointEntry } from "./checkpoint-format.ts";
import { CHECKPOINT_VERSION } from "./checkpoint-format.ts";
import type { AdoptRequest, Allocation, AssignResult, EniSpec, IPAMKey, PodMetadata, ReleaseResult, RemovalResult } from "./allocation.ts";
import { DatastoreError } from "./errors.ts";
import {
  allocationOf,
  assignedIn,
  checkpointEntry,
  coolingIn,
  inCooldown,
  keyString,
  msToNs,
  sortedCidrs,
  type AddressRecord,
  type CidrRecord,
  type EniRecord,
  type Holder,
  type ServingMode,
} from "./records.ts";
import { selectFreeAddress } from "./selection.ts";
import { snapshotOf, statsOf, type DatastoreSnapshot, type PoolStats } from "./snapshot.ts";
import { cidrContains, cidrsOverlap, formatIp, parseCidr, parseIp, type IpFamily } from "../../net/ip.ts";

export type { AdoptRequest, Allocation, AssignResult, EniSpec, IPAMKey, PodMetadata, ReleaseResult, RemovalResult } from "./allocation.ts";
export { DatastoreError, type DatastoreErrorCode } from "./errors.ts";
export type { AddressSnapshot, CidrSnapshot, DatastoreSnapshot, EniSnapshot, PoolStats } from "./snapshot.ts";

export interface DatastoreOptions {
  /** Clock in milliseconds (the agent's scheduler: real time in production, virtual time in tests). */
  now: () => number;
  /** IP_COOLDOWN_PERIOD in ms; the reference's default is 30 s. */
  cooldownMs?: number;
  /** ENABLE_PREFIX_DELEGATION: serve from prefixes instead of /32s. */
  prefixDelegation?: boolean;
  /** Address family served; "6" serves from IPv6 prefixes only (the reference requires PD there). */
  family?: IpFamily;
  /**
   * Called synchronously with the complete allocation list before any change
   * to it is applied; if it throws, the change is abandoned and the caller
   * gets a DatastoreError "checkpoint-write-failed" carrying the cause.
   */
  persist?: (data: CheckpointData) => void;
}

export const DEFAULT_COOLDOWN_MS = 30_000;

/** The key the reference gives entries it migrated from CRI (CNI <= 1.11); release falls back to it. */
export const LEGACY_NETWORK_NAME = "_migrated-from-cri";
export const LEGACY_IF_NAME = "unknown";

export class Datastore {
  readonly family: IpFamily;
  readonly cooldownMs: number;
  #prefixDelegation: boolean;
  readonly #now: () => number;
  readonly #persist: (data: CheckpointData) => void;
  readonly #enis = new Map<string, EniRecord>();
  /** Assigned addresses by key. Insertion order is checkpoint order: adopted entries keep the file's order. */
  readonly #byKey = new Map<string, AddressRecord>();
  /**
   * Cooldown starts of addresses whose CIDR was removed, by address. If the
   * CIDR comes back (IMDS lag, a quick re-allocation by EC2) the cooldown
   * still holds: removing a CIDR must not be a way around it.
   */
  readonly #removedCooling = new Map<string, number>();

  constructor(options: DatastoreOptions) {
    this.#now = options.now;
    this.cooldownMs = options.cooldownMs ?? DEFAULT_COOLDOWN_MS;
    this.#prefixDelegation = options.prefixDelegation ?? false;
    this.family = options.family ?? "4";
    this.#persist = options.persist ?? (() => {});
    if (!Number.isFinite(this.cooldownMs) || this.cooldownMs < 0) {
      throw new RangeError(`cooldownMs must be a non-negative number, got ${this.cooldownMs}`);
    }
  }

  get prefixDelegation(): boolean {
    return this.#prefixDelegation;
  }

  /** Switches which CIDRs serve new assignments; existing assignments stay where they are. */
  setPrefixDelegation(enabled: boolean): void {
    this.#prefixDelegation = enabled;
  }

  // ---------------------------------------------------------------- ENIs

  addEni(spec: EniSpec): void {
    if (this.#enis.has(spec.id)) throw new DatastoreError("duplicate-eni", `datastore: ENI ${spec.id} is already known`);
    this.#enis.set(spec.id, {
      spec: {
        id: spec.id,
        deviceNumber: spec.deviceNumber,
        routeTableId: spec.routeTableId,
        subnetId: spec.subnetId ?? "",
        isPrimary: spec.isPrimary ?? false,
        isTrunk: spec.isTrunk ?? false,
        isEFA: spec.isEFA ?? false,
        isExcluded: spec.isExcluded ?? false,
      },
      addedAtMs: this.#now(),
      cidrs: new Map(),
      assigned: 0,
    });
  }

  hasEni(id: string): boolean {
    return this.#enis.has(id);
  }

  /** An excluded ENI keeps its pods but never serves a new one. */
  setEniExcluded(id: string, excluded: boolean): void {
    this.#eni(id).spec.isExcluded = excluded;
  }

  /**
   * Removes an ENI and its CIDRs. Refused with "eni-in-use" while it holds
   * assignments, unless forced (the ENI vanished behind our back); a forced
   * removal drops those assignments from the checkpoint and reports them.
   */
  removeEni(id: string, options: { force?: boolean } = {}): RemovalResult {
    const eni = this.#eni(id);
    const affected = [...eni.cidrs.values()].flatMap((c) => assignedIn(c));
    if (affected.length > 0) {
      if (!options.force) {
        throw new DatastoreError("eni-in-use", `datastore: ENI ${id} has ${affected.length} assigned address(es)`);
      }
      this.#write(this.#entriesWithout(new Set(affected.map((a) => keyString(a.key)))));
      for (const a of affected) this.#byKey.delete(keyString(a.key));
    }
    for (const c of eni.cidrs.values()) this.#rememberCooling(c);
    this.#enis.delete(id);
    return { affected };
  }

  // ---------------------------------------------------------------- CIDRs

  /**
   * Adds a secondary address ("10.0.0.5/32") or a delegated prefix
   * ("10.0.1.16/28", "2600:1f14::/80"). A CIDR overlapping any known one is
   * refused: one address in two CIDRs could be handed out twice.
   */
  addCidr(eniId: string, cidr: string): string {
    const eni = this.#eni(eniId);
    const parsed = parseCidr(cidr);
    if (parsed === undefined) throw new DatastoreError("invalid-cidr", `datastore: ${JSON.stringify(cidr)} is not a CIDR`);
    if (eni.cidrs.has(parsed.text)) {
      throw new DatastoreError("duplicate-cidr", `datastore: ${parsed.text} is already on ${eniId}`);
    }
    for (const other of this.#enis.values()) {
      for (const c of other.cidrs.values()) {
        if (cidrsOverlap(c.parsed, parsed)) {
          throw new DatastoreError("cidr-overlap", `datastore: ${parsed.text} overlaps ${c.parsed.text} on ${other.spec.id}`);
        }
      }
    }
    const record: CidrRecord = {
      parsed,
      isPrefix: parsed.prefixLength < parsed.bits,
      eni,
      addresses: new Map(),
      assigned: 0,
      excluded: false,
    };
    const now = this.#now();
    for (const [address, releasedAtMs] of this.#removedCooling) {
      if (now >= releasedAtMs + this.cooldownMs) {
        this.#removedCooling.delete(address);
        continue;
      }
      const ip = parseIp(address);
      if (ip !== undefined && cidrContains(parsed, ip)) {
        const offset = Number(ip.value - parsed.base);
        record.addresses.set(offset, { offset, address, cidr: record, releasedAtMs });
        this.#removedCooling.delete(address);
      }
    }
    eni.cidrs.set(parsed.text, record);
    return parsed.text;
  }

  /**
   * An excluded CIDR keeps the addresses its pods hold but never serves a new pod and is not counted
   * (the CIDR counterpart of setEniExcluded: EC2 unassigned it while pods held addresses in it).
   */
  setCidrExcluded(eniId: string, cidr: string, excluded: boolean): void {
    const record = this.#eni(eniId).cidrs.get(parseCidr(cidr)?.text ?? cidr);
    if (record === undefined) throw new DatastoreError("unknown-cidr", `datastore: ${cidr} is not on ${eniId}`);
    record.excluded = excluded;
  }

  /** Removes a CIDR; refused with "cidr-in-use" while it holds assignments, unless forced. */
  removeCidr(eniId: string, cidr: string, options: { force?: boolean } = {}): RemovalResult {
    const eni = this.#eni(eniId);
    const record = eni.cidrs.get(parseCidr(cidr)?.text ?? cidr);
    if (record === undefined) throw new DatastoreError("unknown-cidr", `datastore: ${cidr} is not on ${eniId}`);
    const affected = assignedIn(record);
    if (affected.length > 0) {
      if (!options.force) {
        throw new DatastoreError("cidr-in-use", `datastore: ${record.parsed.text} has ${affected.length} assigned address(es)`);
      }
      this.#write(this.#entriesWithout(new Set(affected.map((a) => keyString(a.key)))));
      for (const a of affected) this.#byKey.delete(keyString(a.key));
      eni.assigned -= record.assigned;
    }
    this.#rememberCooling(record);
    eni.cidrs.delete(record.parsed.text);
    return { affected };
  }

  /**
   * CIDRs of an ENI that could be given back to EC2 now: nothing assigned and
   * nothing in cooldown (the reference would return cooling addresses too).
   */
  freeableCidrs(eniId: string): string[] {
    const now = this.#now();
    return sortedCidrs(this.#eni(eniId))
      .filter((c) => c.assigned === 0 && coolingIn(c, now, this.cooldownMs) === 0)
      .map((c) => c.parsed.text);
  }

  // ---------------------------------------------------------------- assignment

  /**
   * Gives the pod an address, or the one it already holds under this key (a
   * retried ADD). Throws "no-available-address" when nothing is free and out
   * of cooldown on a serving ENI.
   */
  assign(key: IPAMKey, metadata: Partial<PodMetadata> = {}): AssignResult {
    const existing = this.#byKey.get(keyString(key));
    if (existing !== undefined) return { ...allocationOf(existing), reused: true };

    const candidate = selectFreeAddress(this.#enis.values(), this.#mode(), this.#now());
    if (candidate === undefined) {
      const s = this.stats();
      throw new DatastoreError(
        "no-available-address",
        `datastore: no available IP/prefix address (total ${s.totalIPs}, assigned ${s.assignedIPs}, in cooldown ${s.cooldownIPs})`,
      );
    }
    const { cidr, offset } = candidate;
    const holder: Holder = {
      key: { ...key },
      metadata: {
        k8sPodNamespace: metadata.k8sPodNamespace ?? "",
        k8sPodName: metadata.k8sPodName ?? "",
        k8sPodUID: metadata.k8sPodUID ?? "",
        interfacesCount: metadata.interfacesCount ?? 0,
      },
      assignedAtNs: msToNs(this.#now()),
    };
    const address = formatIp(cidr.parsed.family, cidr.parsed.base + BigInt(offset));
    const record: AddressRecord = cidr.addresses.get(offset) ?? { offset, address, cidr };

    this.#write([...this.#entries(), checkpointEntry(address, cidr.parsed.family, holder)]);

    record.holder = holder;
    delete record.releasedAtMs;
    cidr.addresses.set(offset, record);
    cidr.assigned++;
    cidr.eni.assigned++;
    this.#byKey.set(keyString(holder.key), record);
    this.#sweep(cidr, this.#now());
    return { ...allocationOf(record), reused: false };
  }

  /**
   * Frees the address held under `key` (or, failing that, under the
   * reference's legacy CRI-migration key for the same container) and starts
   * its cooldown. Returns undefined for an unknown pod, which the RPC layer
   * answers with success, as the reference does.
   */
  release(key: IPAMKey): ReleaseResult | undefined {
    let legacyKey = false;
    let record = this.#byKey.get(keyString(key));
    if (record === undefined) {
      record = this.#byKey.get(keyString({ networkName: LEGACY_NETWORK_NAME, containerID: key.containerID, ifName: LEGACY_IF_NAME }));
      legacyKey = true;
    }
    if (record?.holder === undefined) return undefined;
    const allocation = allocationOf(record);
    const k = keyString(record.holder.key);

    this.#write(this.#entriesWithout(new Set([k])));

    this.#byKey.delete(k);
    delete record.holder;
    record.releasedAtMs = this.#now();
    record.cidr.assigned--;
    record.cidr.eni.assigned--;
    return { ...allocation, interfacesCount: allocation.metadata.interfacesCount || 1, legacyKey };
  }

  lookup(key: IPAMKey): Allocation | undefined {
    const record = this.#byKey.get(keyString(key));
    return record === undefined ? undefined : allocationOf(record);
  }

  /** All assignments, in checkpoint order. */
  allocations(): Allocation[] {
    return [...this.#byKey.values()].map(allocationOf);
  }

  /** Which ENI and CIDR an address belongs to, if any. */
  locate(address: string): { eniId: string; cidr: string } | undefined {
    const ip = parseIp(address);
    if (ip === undefined) return undefined;
    for (const eni of this.#enis.values()) {
      for (const c of eni.cidrs.values()) {
        if (cidrContains(c.parsed, ip)) return { eniId: eni.spec.id, cidr: c.parsed.text };
      }
    }
    return undefined;
  }

  /**
   * Takes over existing allocations (checkpoint restore), all or nothing.
   * Every address must lie in a known CIDR of the datastore's family and be
   * free; no address and no key may be claimed twice. The resulting state is
   * persisted even when the list is empty, which rewrites the checkpoint.
   */
  adopt(requests: readonly AdoptRequest[]): Allocation[] {
    const placed: { cidr: CidrRecord; offset: number; address: string; holder: Holder }[] = [];
    const seenAddresses = new Map<string, IPAMKey>();
    const seenKeys = new Set(this.#byKey.keys());
    for (const req of requests) {
      const ip = parseIp(req.address);
      if (ip === undefined || ip.family !== this.family) {
        throw new DatastoreError("invalid-allocation", `datastore: ${JSON.stringify(req.address)} is not an IPv${this.family} address`);
      }
      const cidr = this.#cidrFor(ip.value);
      if (cidr === undefined) {
        throw new DatastoreError("invalid-allocation", `datastore: ${req.address} lies in no known CIDR`);
      }
      const offset = Number(ip.value - cidr.parsed.base);
      const address = formatIp(ip.family, ip.value);
      const k = keyString(req.key);
      const other = seenAddresses.get(address) ?? cidr.addresses.get(offset)?.holder?.key;
      if (other !== undefined) {
        throw new DatastoreError(
          "address-claimed-twice",
          `datastore: ${address} is claimed by both ${keyString(other)} and ${k}`,
        );
      }
      if (seenKeys.has(k)) throw new DatastoreError("key-claimed-twice", `datastore: key ${k} holds more than one address`);
      seenAddresses.set(address, req.key);
      seenKeys.add(k);
      placed.push({
        cidr,
        offset,
        address,
        holder: {
          key: { ...req.key },
          metadata: { ...req.metadata },
          assignedAtNs: req.assignedAtNs,
        },
      });
    }

    this.#write([...this.#entries(), ...placed.map((p) => checkpointEntry(p.address, p.cidr.parsed.family, p.holder))]);

    const out: Allocation[] = [];
    for (const p of placed) {
      const record: AddressRecord = p.cidr.addresses.get(p.offset) ?? { offset: p.offset, address: p.address, cidr: p.cidr };
      record.holder = p.holder;
      delete record.releasedAtMs;
      p.cidr.addresses.set(p.offset, record);
      p.cidr.assigned++;
      p.cidr.eni.assigned++;
      this.#byKey.set(keyString(p.holder.key), record);
      out.push(allocationOf(record));
    }
    return out;
  }

  /** The checkpoint contents for the current state. */
  checkpointData(): CheckpointData {
    return { version: CHECKPOINT_VERSION, allocations: this.#entries() };
  }

  // ---------------------------------------------------------------- introspection

  stats(): PoolStats {
    return statsOf(this.#enis.values(), this.#mode(), this.#now());
  }

  snapshot(): DatastoreSnapshot {
    return snapshotOf(this.#enis.values(), this.#mode(), this.#now());
  }

  // ---------------------------------------------------------------- internals

  #mode(): ServingMode {
    return { family: this.family, prefixDelegation: this.#prefixDelegation, cooldownMs: this.cooldownMs };
  }

  #eni(id: string): EniRecord {
    const eni = this.#enis.get(id);
    if (eni === undefined) throw new DatastoreError("unknown-eni", `datastore: unknown ENI ${id}`);
    return eni;
  }

  #cidrFor(value: bigint): CidrRecord | undefined {
    for (const eni of this.#enis.values()) {
      for (const c of eni.cidrs.values()) {
        if (cidrContains(c.parsed, { family: this.family, value })) return c;
      }
    }
    return undefined;
  }

  /**
   * Keeps the cooldown of a CIDR being removed. Addresses still assigned
   * (forced removal) count as released now: their pods may still use them.
   */
  #rememberCooling(c: CidrRecord): void {
    const now = this.#now();
    for (const r of c.addresses.values()) {
      if (r.holder !== undefined) this.#removedCooling.set(r.address, now);
      else if (inCooldown(r, now, this.cooldownMs)) this.#removedCooling.set(r.address, r.releasedAtMs as number);
    }
  }

  /**
   * Drops records of released addresses whose cooldown is over: they carry no
   * information any more, and this keeps /80 maps small. Only after a commit,
   * so that a failed write leaves no trace at all.
   */
  #sweep(c: CidrRecord, now: number): void {
    for (const [offset, r] of c.addresses) {
      if (r.holder === undefined && !inCooldown(r, now, this.cooldownMs)) c.addresses.delete(offset);
    }
  }

  #entries(): CheckpointEntry[] {
    return [...this.#byKey.values()].map((r) => checkpointEntry(r.address, r.cidr.parsed.family, r.holder as Holder));
  }

  #entriesWithout(keys: Set<string>): CheckpointEntry[] {
    return [...this.#byKey.entries()]
      .filter(([k]) => !keys.has(k))
      .map(([, r]) => checkpointEntry(r.address, r.cidr.parsed.family, r.holder as Holder));
  }

  #write(allocations: CheckpointEntry[]): void {
    try {
      this.#persist({ version: CHECKPOINT_VERSION, allocations });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new DatastoreError("checkpoint-write-failed", `datastore: checkpoint write failed, change not applied: ${reason}`, {
        cause: err,
      });
    }
  }
}
