// Planning the addresses and prefixes a request asks for, before anything is taken: explicit ones
// checked against the subnet (EC2's codes for each refusal), counted ones picked around them, and
// the request-shape rules CreateNetworkInterface and Assign* share (a count or a list, addresses or
// prefixes, never both). Nothing here changes the subnet: the caller commits the plan.

import type { Ec2Error, InstanceTypeInfo } from "./types.ts";
import {
  addressInUse,
  insufficientCidrBlocks,
  insufficientFreeAddresses,
  invalidParameterCombination,
  invalidParameterValue,
} from "./errors.ts";
import { parseCidr4, parseIpv4, PREFIX_LENGTH, PREFIX_SIZE } from "../ipv4.ts";
import { parseCidr6, parseIpv6, PREFIX6_LENGTH } from "../ipv6.ts";
import type { Refusal, SubnetPool } from "./subnet-pool.ts";

export type AddressAction = "create" | "assign";

const REFUSAL_TEXT: Record<Refusal, string> = {
  outside: "it is not within the subnet's CIDR block",
  reserved: "it is in the subnet's reserved address range",
  misaligned: "it is not aligned to its prefix length",
  "in-use": "it overlaps addresses already in use",
  "in-prefix": "it lies inside a prefix already assigned",
};

function addressRefused(refusal: Refusal, text: string, action: AddressAction): Ec2Error {
  if (refusal === "in-use" || refusal === "in-prefix") {
    return action === "create" ? addressInUse(text) : invalidParameterValue(`Address '${text}' is in use.`);
  }
  return invalidParameterValue(`Address '${text}' cannot be used: ${REFUSAL_TEXT[refusal]}.`);
}

function prefixRefused(refusal: Refusal, text: string): Ec2Error {
  return invalidParameterValue(`The prefix '${text}' cannot be assigned: ${REFUSAL_TEXT[refusal]}.`);
}

/** Validates an explicitly requested IPv4 address for this subnet; returns it as a number. */
export function explicitAddress(pool: SubnetPool, text: string, planned: ReadonlySet<number>, action: AddressAction): number {
  const address = parseIpv4(text);
  if (address === undefined) throw invalidParameterValue(`Invalid private IP address '${text}'.`);
  const refusal = pool.refuseAddress(address, planned);
  if (refusal !== undefined) throw addressRefused(refusal, text, action);
  return address;
}

export function pickAddresses(pool: SubnetPool, count: number, planned: ReadonlySet<number> = new Set()): number[] {
  if (count === 0) return [];
  const picked = pool.pickAddresses(count, planned);
  if (!picked) throw insufficientFreeAddresses();
  return picked;
}

/** Validates explicitly requested /28 prefixes. `alsoTaking` addresses of this request count as used. */
export function explicitPrefixes(pool: SubnetPool, texts: string[], plannedAddresses: ReadonlySet<number>, alsoTaking: number): number[] {
  if (texts.length === 0) return [];
  const bases = new Set<number>();
  for (const text of texts) {
    const cidr = parseCidr4(text);
    if (!cidr || cidr.prefixLength !== PREFIX_LENGTH) throw invalidParameterValue(`Invalid IPv4 prefix '${text}': expecting a /28.`);
    const refusal = pool.refusePrefix(cidr.network, plannedAddresses, bases);
    if (refusal !== undefined) throw prefixRefused(refusal, text);
    bases.add(cidr.network);
  }
  if (bases.size * PREFIX_SIZE + alsoTaking > pool.available) throw insufficientCidrBlocks();
  return [...bases];
}

/** Picks `count` free /28 prefixes clear of `plannedAddresses`. */
export function countedPrefixes(pool: SubnetPool, count: number | undefined, plannedAddresses: ReadonlySet<number>, alsoTaking: number): number[] {
  if (!count) return [];
  if (count * PREFIX_SIZE + alsoTaking > pool.available) throw insufficientCidrBlocks();
  const picked = pool.pickPrefixes(count, plannedAddresses);
  if (!picked) throw insufficientCidrBlocks();
  return picked;
}

export function planAddresses6(pool: SubnetPool, count: number | undefined, explicit: string[] | undefined, action: AddressAction): bigint[] {
  if (explicit !== undefined && explicit.length > 0) {
    const planned = new Set<bigint>();
    for (const text of explicit) {
      const address = parseIpv6(text);
      if (address === undefined) throw invalidParameterValue(`Invalid IPv6 address '${text}'.`);
      const refusal = pool.refuseAddress6(address, planned);
      if (refusal !== undefined) throw addressRefused(refusal, text, action);
      planned.add(address);
    }
    return [...planned];
  }
  if (!count) return [];
  const picked = pool.pickAddresses6(count);
  if (!picked) throw insufficientFreeAddresses();
  return picked;
}

export function planPrefixes6(pool: SubnetPool, count: number | undefined, explicit: string[] | undefined): bigint[] {
  if (explicit !== undefined && explicit.length > 0) {
    const planned = new Set<bigint>();
    for (const text of explicit) {
      const cidr = parseCidr6(text);
      if (!cidr || cidr.prefixLength !== PREFIX6_LENGTH) throw invalidParameterValue(`Invalid IPv6 prefix '${text}': expecting a /80.`);
      const refusal = pool.refusePrefix6(cidr.network, planned);
      if (refusal !== undefined) throw prefixRefused(refusal, text);
      planned.add(cidr.network);
    }
    return [...planned];
  }
  if (!count) return [];
  const picked = pool.pickPrefixes6(count);
  if (!picked) throw insufficientCidrBlocks();
  return picked;
}

/**
 * EC2 delegates prefixes to ENIs of Nitro instances only (bare-metal types, which the table lists
 * without a hypervisor, are Nitro machines too). `type` is the instance the ENI is on, if any.
 */
export function checkPrefixDelegation(type: InstanceTypeInfo | undefined): void {
  if (type === undefined || type.hypervisor === "nitro" || type.bareMetal) return;
  throw invalidParameterValue(`Prefix delegation is not supported for the instance type '${type.instanceType}': only Nitro instances take prefixes.`);
}

function checkCount(name: string, count: number | undefined): void {
  if (count !== undefined && (!Number.isInteger(count) || count < 1)) {
    throw invalidParameterValue(`Value (${count}) for parameter ${name} is invalid. Expecting a value greater than 0.`);
  }
}

/** Secondary addresses and /28 prefixes cannot be mixed; a count and a list of one kind neither. */
export function checkIpv4Combination(r: {
  addressCount?: number | undefined;
  addresses: string[];
  prefixCount?: number | undefined;
  prefixes?: string[] | undefined;
}): void {
  checkCount("secondaryPrivateIpAddressCount", r.addressCount);
  checkCount("ipv4PrefixCount", r.prefixCount);
  const wantsAddresses = r.addressCount !== undefined || r.addresses.length > 0;
  const wantsPrefixes = r.prefixCount !== undefined || (r.prefixes?.length ?? 0) > 0;
  if (r.addressCount !== undefined && r.addresses.length > 0) {
    throw invalidParameterCombination("You may specify secondaryPrivateIpAddressCount or specific secondary private IP addresses, but not both.");
  }
  if (r.prefixCount !== undefined && (r.prefixes?.length ?? 0) > 0) {
    throw invalidParameterCombination("You may specify ipv4PrefixCount or specific IPv4 prefixes, but not both.");
  }
  if (wantsAddresses && wantsPrefixes) {
    throw invalidParameterCombination("You may not specify secondary private IP addresses and IPv4 prefixes in the same request.");
  }
}

/** The same rules for IPv6; returns whether any IPv6 address or prefix is requested. */
export function checkIpv6Combination(r: {
  ipv6AddressCount?: number | undefined;
  ipv6Addresses?: string[] | undefined;
  ipv6PrefixCount?: number | undefined;
  ipv6Prefixes?: string[] | undefined;
}): boolean {
  checkCount("ipv6AddressCount", r.ipv6AddressCount);
  checkCount("ipv6PrefixCount", r.ipv6PrefixCount);
  const listed = r.ipv6Addresses?.length ?? 0;
  const listedPrefixes = r.ipv6Prefixes?.length ?? 0;
  if (r.ipv6AddressCount !== undefined && listed > 0) {
    throw invalidParameterCombination("You may specify ipv6AddressCount or specific IPv6 addresses, but not both.");
  }
  if (r.ipv6PrefixCount !== undefined && listedPrefixes > 0) {
    throw invalidParameterCombination("You may specify ipv6PrefixCount or specific IPv6 prefixes, but not both.");
  }
  const wantsAddresses = r.ipv6AddressCount !== undefined || listed > 0;
  const wantsPrefixes = r.ipv6PrefixCount !== undefined || listedPrefixes > 0;
  if (wantsAddresses && wantsPrefixes) {
    throw invalidParameterCombination("You may not specify IPv6 addresses and IPv6 prefixes in the same request.");
  }
  return wantsAddresses || wantsPrefixes;
}
