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
// No I/O here: the clock and the persistence are injected.

import type { CheckpointData, CheckpointEntry } from "./checkpoint-format.ts";
import { CHECKPOINT_VERSION } from "./checkpoint-format.ts";
import type { IpFamily, ParsedCidr } from "../../net/ip.ts";
import { cidrContains, cidrsOverlap, formatIp, parseCidr, parseIp } from "../../net/ip.ts";

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

export type DatastoreErrorCode =
  | "unknown-eni"
  | "duplicate-eni"
  | "invalid-cidr"
  | "unknown-cidr"
  | "duplicate-cidr"
  | "cidr-overlap"
  | "cidr-in-use"
  | "eni-in-use"
  | "no-available-address"
  | "invalid-allocation"
  | "address-claimed-twice"
  | "key-claimed-twice"
  | "checkpoint-write-failed";

export class DatastoreError extends Error {
  override name = "DatastoreError";
  readonly code: DatastoreErrorCode;
  constructor(code: DatastoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** An allocation to take over as is (checkpoint restore). */
export interface AdoptRequest {
  key: IPAMKey;
  address: string;
  metadata: PodMetadata;
  assignedAtNs: bigint;
}

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

// ---------------------------------------------------------------- internal records

interface AddressRecord {
  offset: number;
  address: string;
  cidr: CidrRecord;
  /** Set while assigned. */
  holder?: Holder;
  /** Set once released; the cooldown runs from here. */
  releasedAtMs?: number;
}

interface Holder {
  key: IPAMKey;
  metadata: PodMetadata;
  assignedAtNs: bigint;
}

interface CidrRecord {
  parsed: ParsedCidr;
  isPrefix: boolean;
  eni: EniRecord;
  /** Only addresses that are assigned or were released (cooldown bookkeeping); keyed by offset. */
  addresses: Map<number, AddressRecord>;
  assigned: number;
  /** See CidrSnapshot.excluded. */
  excluded: boolean;
}

interface EniRecord {
  spec: Required<EniSpec>;
  addedAtMs: number;
  cidrs: Map<string, CidrRecord>;
  assigned: number;
}

interface Candidate {
  cidr: CidrRecord;
  offset: number;
}

const keyString = (k: IPAMKey): string => JSON.stringify([k.networkName, k.containerID, k.ifName]);

function msToNs(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}

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
    const affected = [...eni.cidrs.values()].flatMap((c) => this.#assignedIn(c));
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
    const affected = this.#assignedIn(record);
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
    return this.#sortedCidrs(this.#eni(eniId))
      .filter((c) => c.assigned === 0 && this.#cooling(c, now) === 0)
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
    if (existing !== undefined) return { ...this.#allocation(existing), reused: true };

    const candidate = this.#select();
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

    this.#write([...this.#entries(), this.#entry(address, cidr.parsed.family, holder)]);

    record.holder = holder;
    delete record.releasedAtMs;
    cidr.addresses.set(offset, record);
    cidr.assigned++;
    cidr.eni.assigned++;
    this.#byKey.set(keyString(holder.key), record);
    this.#sweep(cidr, this.#now());
    return { ...this.#allocation(record), reused: false };
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
    const allocation = this.#allocation(record);
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
    return record === undefined ? undefined : this.#allocation(record);
  }

  /** All assignments, in checkpoint order. */
  allocations(): Allocation[] {
    return [...this.#byKey.values()].map((r) => this.#allocation(r));
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

    this.#write([...this.#entries(), ...placed.map((p) => this.#entry(p.address, p.cidr.parsed.family, p.holder))]);

    const out: Allocation[] = [];
    for (const p of placed) {
      const record: AddressRecord = p.cidr.addresses.get(p.offset) ?? { offset: p.offset, address: p.address, cidr: p.cidr };
      record.holder = p.holder;
      delete record.releasedAtMs;
      p.cidr.addresses.set(p.offset, record);
      p.cidr.assigned++;
      p.cidr.eni.assigned++;
      this.#byKey.set(keyString(p.holder.key), record);
      out.push(this.#allocation(record));
    }
    return out;
  }

  /** The checkpoint contents for the current state. */
  checkpointData(): CheckpointData {
    return { version: CHECKPOINT_VERSION, allocations: this.#entries() };
  }

  // ---------------------------------------------------------------- introspection

  stats(): PoolStats {
    const now = this.#now();
    const s: PoolStats = { totalIPs: 0, assignedIPs: 0, cooldownIPs: 0, availableIPs: 0, totalPrefixes: 0, freePrefixes: 0 };
    for (const eni of this.#enis.values()) {
      if (eni.spec.isExcluded) continue;
      for (const c of eni.cidrs.values()) {
        if (c.parsed.family !== this.family || c.excluded) continue;
        const cooling = this.#cooling(c, now);
        if (c.isPrefix) {
          s.totalPrefixes++;
          if (c.assigned === 0 && cooling === 0) s.freePrefixes++;
        }
        if (!this.#active(c)) continue;
        s.totalIPs += c.parsed.size;
        s.assignedIPs += c.assigned;
        s.cooldownIPs += cooling;
      }
    }
    s.availableIPs = s.totalIPs - s.assignedIPs - s.cooldownIPs;
    return s;
  }

  snapshot(): DatastoreSnapshot {
    const now = this.#now();
    const enis = [...this.#enis.values()]
      .sort((a, b) => a.spec.deviceNumber - b.spec.deviceNumber || (a.spec.id < b.spec.id ? -1 : 1))
      .map((eni): EniSnapshot => {
        const cidrs = this.#sortedCidrs(eni).map((c): CidrSnapshot => {
          const addresses = [...c.addresses.values()]
            .sort((a, b) => a.offset - b.offset)
            .map((r): AddressSnapshot => {
              const a: AddressSnapshot = { address: r.address, inCooldown: this.#inCooldown(r, now) };
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
            active: this.#active(c),
            excluded: c.excluded,
            size: c.parsed.size,
            assigned: c.assigned,
            cooldown: this.#cooling(c, now),
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
      family: this.family,
      prefixDelegation: this.#prefixDelegation,
      cooldownMs: this.cooldownMs,
      takenAtMs: now,
      stats: this.stats(),
      enis,
    };
  }

  // ---------------------------------------------------------------- internals

  #eni(id: string): EniRecord {
    const eni = this.#enis.get(id);
    if (eni === undefined) throw new DatastoreError("unknown-eni", `datastore: unknown ENI ${id}`);
    return eni;
  }

  #active(c: CidrRecord): boolean {
    if (c.parsed.family !== this.family || c.excluded) return false;
    return this.family === "6" ? c.isPrefix : c.isPrefix === this.#prefixDelegation;
  }

  #inCooldown(r: AddressRecord, now: number): boolean {
    return r.holder === undefined && r.releasedAtMs !== undefined && now < r.releasedAtMs + this.cooldownMs;
  }

  /** Number of released addresses of a CIDR still in cooldown. */
  #cooling(c: CidrRecord, now: number): number {
    let n = 0;
    for (const r of c.addresses.values()) if (this.#inCooldown(r, now)) n++;
    return n;
  }

  #sortedCidrs(eni: EniRecord): CidrRecord[] {
    return [...eni.cidrs.values()].sort((a, b) =>
      a.parsed.family !== b.parsed.family ? (a.parsed.family < b.parsed.family ? -1 : 1) : a.parsed.base < b.parsed.base ? -1 : 1,
    );
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
      else if (this.#inCooldown(r, now)) this.#removedCooling.set(r.address, r.releasedAtMs as number);
    }
  }

  /** The lowest offset in the CIDR that is neither assigned nor cooling. */
  #lowestFree(c: CidrRecord, now: number): number | undefined {
    const busy = (offset: number): boolean => {
      const r = c.addresses.get(offset);
      return r !== undefined && (r.holder !== undefined || this.#inCooldown(r, now));
    };
    // At most one more probe than there are records: this stays cheap for /80s.
    for (let offset = 0; offset < c.parsed.size; offset++) {
      if (!busy(offset)) return offset;
    }
    return undefined;
  }

  /**
   * Drops records of released addresses whose cooldown is over: they carry no
   * information any more, and this keeps /80 maps small. Only after a commit,
   * so that a failed write leaves no trace at all.
   */
  #sweep(c: CidrRecord, now: number): void {
    for (const [offset, r] of c.addresses) {
      if (r.holder === undefined && !this.#inCooldown(r, now)) c.addresses.delete(offset);
    }
  }

  /**
   * Deterministic packing: the serving ENI with the most assigned addresses
   * that still has a free one (ties: lowest device number, then ID), then its
   * active CIDR with the most assigned (ties: lowest base), then the lowest
   * free address in it.
   */
  #select(): Candidate | undefined {
    const now = this.#now();
    const enis = [...this.#enis.values()]
      .filter((e) => !e.spec.isExcluded)
      .sort(
        (a, b) =>
          b.assigned - a.assigned ||
          a.spec.deviceNumber - b.spec.deviceNumber ||
          (a.spec.id < b.spec.id ? -1 : a.spec.id > b.spec.id ? 1 : 0),
      );
    for (const eni of enis) {
      const cidrs = [...eni.cidrs.values()]
        .filter((c) => this.#active(c))
        .sort((a, b) => b.assigned - a.assigned || (a.parsed.base < b.parsed.base ? -1 : 1));
      for (const cidr of cidrs) {
        const offset = this.#lowestFree(cidr, now);
        if (offset !== undefined) return { cidr, offset };
      }
    }
    return undefined;
  }

  #assignedIn(c: CidrRecord): Allocation[] {
    return [...c.addresses.values()]
      .filter((r) => r.holder !== undefined)
      .sort((a, b) => a.offset - b.offset)
      .map((r) => this.#allocation(r));
  }

  #allocation(r: AddressRecord): Allocation {
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

  #entry(address: string, family: IpFamily, holder: Holder): CheckpointEntry {
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

  #entries(): CheckpointEntry[] {
    return [...this.#byKey.values()].map((r) => this.#entry(r.address, r.cidr.parsed.family, r.holder as Holder));
  }

  #entriesWithout(keys: Set<string>): CheckpointEntry[] {
    return [...this.#byKey.entries()]
      .filter(([k]) => !keys.has(k))
      .map(([, r]) => this.#entry(r.address, r.cidr.parsed.family, r.holder as Holder));
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
