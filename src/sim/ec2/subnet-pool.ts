// Address bookkeeping of one subnet: which IPv4 addresses, /28 prefixes, IPv6 addresses and /80
// prefixes are taken and by which ENI, how many addresses remain, and pseudo-random choice of free
// ones. Choosing at random (from the model's `random`) is deliberate: EC2 does not hand addresses
// out in order, and a client that depends on an order must fail here too.
//
// Planning is separate from committing: pick*/check* never change state, so a request that fails
// half-way (e.g. enough addresses but no free /28) leaves the subnet untouched.

import {
  cidrContainsAddress,
  isReservedInSubnet,
  PREFIX_SIZE,
  RESERVED_PER_SUBNET,
  type Cidr4,
} from "../ipv4.ts";
import { cidr6ContainsAddress, hostMask6, PREFIX6_LENGTH, type Cidr6 } from "../ipv6.ts";

/** Why an explicitly requested address or prefix cannot be had. */
export type Refusal = "outside" | "reserved" | "misaligned" | "in-use" | "in-prefix";

/** Random probes before falling back to enumerating every candidate (only when nearly full). */
const PROBES = 64;

const PREFIX6_SPAN = 1n << BigInt(128 - PREFIX6_LENGTH); // addresses in a /80
const PREFIXES6_PER_SUBNET = 1 << (PREFIX6_LENGTH - 64); // /80s in a /64

export class SubnetPool {
  readonly cidr: Cidr4;
  #cidr6: Cidr6 | undefined;
  readonly #random: () => number;
  readonly #addresses = new Map<number, string>(); // address -> owning ENI
  readonly #prefixes = new Map<number, string>(); // /28 base -> owning ENI
  readonly #addresses6 = new Map<bigint, string>();
  readonly #prefixes6 = new Map<bigint, string>(); // /80 base -> owning ENI
  #reservation = 0;

  constructor(cidr: Cidr4, cidr6: Cidr6 | undefined, random: () => number) {
    this.cidr = cidr;
    this.#cidr6 = cidr6;
    this.#random = random;
  }

  /** The subnet's IPv6 /64, once it has one. */
  get cidr6(): Cidr6 | undefined {
    return this.#cidr6;
  }

  /** Gives a subnet without an IPv6 block its /64 (AssociateSubnetCidrBlock, once associated). */
  associateCidr6(cidr6: Cidr6): void {
    if (this.#cidr6 !== undefined) throw new Error("the subnet has an IPv6 CIDR block already");
    this.#cidr6 = cidr6;
  }

  set reservation(count: number) {
    this.#reservation = count;
  }

  /** EC2's AvailableIpAddressCount: size − 5 reserved − used (addresses + whole prefixes) − hidden. */
  get available(): number {
    const used = this.#addresses.size + this.#prefixes.size * PREFIX_SIZE;
    return Math.max(0, this.cidr.size - RESERVED_PER_SUBNET - used - this.#reservation);
  }

  ownerOfAddress(address: number): string | undefined {
    return this.#addresses.get(address);
  }

  // ---- IPv4 addresses ----

  refuseAddress(address: number, planned: ReadonlySet<number> = new Set()): Refusal | undefined {
    if (!cidrContainsAddress(this.cidr, address)) return "outside";
    if (isReservedInSubnet(this.cidr, address)) return "reserved";
    if (this.#addresses.has(address) || planned.has(address)) return "in-use";
    if (this.#prefixes.has(prefixBaseOf(address))) return "in-prefix";
    return undefined;
  }

  /** Picks `count` distinct free addresses not in `planned`; undefined if there are not enough. */
  pickAddresses(count: number, planned: ReadonlySet<number> = new Set()): number[] | undefined {
    const taken = new Set(planned);
    const picked: number[] = [];
    const first = this.cidr.network + 4; // after network, router, DNS, future use
    const candidates = this.cidr.size - RESERVED_PER_SUBNET;
    while (picked.length < count) {
      let found: number | undefined;
      for (let i = 0; i < PROBES && found === undefined; i++) {
        const address = first + Math.floor(this.#random() * candidates);
        if (this.refuseAddress(address, taken) === undefined) found = address;
      }
      if (found === undefined) {
        const free: number[] = [];
        for (let a = first; a < first + candidates; a++) {
          if (this.refuseAddress(a, taken) === undefined) free.push(a);
        }
        if (free.length === 0) return undefined;
        found = free[Math.floor(this.#random() * free.length)] as number;
      }
      taken.add(found);
      picked.push(found);
    }
    return picked;
  }

  takeAddress(address: number, eniId: string): void {
    this.#addresses.set(address, eniId);
  }

  releaseAddress(address: number): void {
    this.#addresses.delete(address);
  }

  // ---- IPv4 /28 prefixes ----

  refusePrefix(base: number, plannedAddresses: ReadonlySet<number> = new Set(), plannedPrefixes: ReadonlySet<number> = new Set()): Refusal | undefined {
    if (base % PREFIX_SIZE !== 0) return "misaligned";
    if (!cidrContainsAddress(this.cidr, base) || !cidrContainsAddress(this.cidr, base + PREFIX_SIZE - 1)) return "outside";
    if (isReservedInSubnet(this.cidr, base) || isReservedInSubnet(this.cidr, base + PREFIX_SIZE - 1)) return "reserved";
    if (this.#prefixes.has(base) || plannedPrefixes.has(base)) return "in-use";
    for (let a = base; a < base + PREFIX_SIZE; a++) {
      if (this.#addresses.has(a) || plannedAddresses.has(a)) return "in-use";
    }
    return undefined;
  }

  /** Picks `count` free aligned /28s; undefined if the subnet has not that many unfragmented blocks. */
  pickPrefixes(count: number, plannedAddresses: ReadonlySet<number> = new Set()): number[] | undefined {
    const taken = new Set<number>();
    const blocks = this.cidr.size / PREFIX_SIZE;
    // The first block holds the network/router/DNS/future addresses, the last the broadcast.
    const candidates = blocks - 2;
    if (candidates <= 0) return count === 0 ? [] : undefined;
    const baseOf = (block: number): number => this.cidr.network + block * PREFIX_SIZE;
    while (taken.size < count) {
      let found: number | undefined;
      for (let i = 0; i < PROBES && found === undefined; i++) {
        const base = baseOf(1 + Math.floor(this.#random() * candidates));
        if (this.refusePrefix(base, plannedAddresses, taken) === undefined) found = base;
      }
      if (found === undefined) {
        const free: number[] = [];
        for (let b = 1; b <= candidates; b++) {
          if (this.refusePrefix(baseOf(b), plannedAddresses, taken) === undefined) free.push(baseOf(b));
        }
        if (free.length === 0) return undefined;
        found = free[Math.floor(this.#random() * free.length)] as number;
      }
      taken.add(found);
    }
    return [...taken];
  }

  ownerOfPrefix(base: number): string | undefined {
    return this.#prefixes.get(base);
  }

  takePrefix(base: number, eniId: string): void {
    this.#prefixes.set(base, eniId);
  }

  releasePrefix(base: number): void {
    this.#prefixes.delete(base);
  }

  // ---- IPv6 addresses and /80 prefixes ----

  refuseAddress6(address: bigint, planned: ReadonlySet<bigint> = new Set()): Refusal | undefined {
    const cidr6 = this.cidr6;
    if (!cidr6 || !cidr6ContainsAddress(cidr6, address)) return "outside";
    if (isReservedIn64(cidr6, address)) return "reserved";
    if (this.#addresses6.has(address) || planned.has(address)) return "in-use";
    if (this.#prefixes6.has(prefix6BaseOf(address))) return "in-prefix";
    return undefined;
  }

  pickAddresses6(count: number): bigint[] | undefined {
    const cidr6 = this.cidr6;
    if (!cidr6) return undefined;
    const taken = new Set<bigint>();
    // 2^64 candidates: random probing cannot realistically run out before the per-ENI limits do.
    for (let tries = 0; taken.size < count; tries++) {
      if (tries > count * PROBES) return undefined;
      const address = cidr6.network | this.#random64();
      if (this.refuseAddress6(address, taken) === undefined) taken.add(address);
    }
    return [...taken];
  }

  ownerOfAddress6(address: bigint): string | undefined {
    return this.#addresses6.get(address);
  }

  takeAddress6(address: bigint, eniId: string): void {
    this.#addresses6.set(address, eniId);
  }

  releaseAddress6(address: bigint): void {
    this.#addresses6.delete(address);
  }

  refusePrefix6(base: bigint, planned: ReadonlySet<bigint> = new Set()): Refusal | undefined {
    const cidr6 = this.cidr6;
    if ((base & (PREFIX6_SPAN - 1n)) !== 0n) return "misaligned";
    if (!cidr6 || !cidr6ContainsAddress(cidr6, base)) return "outside";
    if (isReservedIn64(cidr6, base) || isReservedIn64(cidr6, base + PREFIX6_SPAN - 1n)) return "reserved";
    if (this.#prefixes6.has(base) || planned.has(base)) return "in-use";
    for (const address of this.#addresses6.keys()) {
      if (prefix6BaseOf(address) === base) return "in-use";
    }
    return undefined;
  }

  pickPrefixes6(count: number): bigint[] | undefined {
    const cidr6 = this.cidr6;
    if (!cidr6) return undefined;
    const taken = new Set<bigint>();
    for (let tries = 0; taken.size < count; tries++) {
      if (tries > count * PROBES) return undefined;
      const block = BigInt(Math.floor(this.#random() * PREFIXES6_PER_SUBNET));
      const base = cidr6.network + block * PREFIX6_SPAN;
      if (this.refusePrefix6(base, taken) === undefined) taken.add(base);
    }
    return [...taken];
  }

  takePrefix6(base: bigint, eniId: string): void {
    this.#prefixes6.set(base, eniId);
  }

  releasePrefix6(base: bigint): void {
    this.#prefixes6.delete(base);
  }

  #random64(): bigint {
    let value = 0n;
    for (let i = 0; i < 4; i++) value = (value << 16n) | BigInt(Math.floor(this.#random() * 0x10000) & 0xffff);
    return value;
  }
}

export function prefixBaseOf(address: number): number {
  return address - (address % PREFIX_SIZE);
}

function prefix6BaseOf(address: bigint): bigint {
  return address & ~(PREFIX6_SPAN - 1n);
}

/** AWS keeps the first four and the last address of every IPv6 subnet CIDR. */
function isReservedIn64(cidr6: Cidr6, address: bigint): boolean {
  const host = address & hostMask6(cidr6.prefixLength);
  return host <= 3n || host === hostMask6(cidr6.prefixLength);
}
