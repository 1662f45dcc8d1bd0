// AssignPrivateIpAddresses and UnassignPrivateIpAddresses: secondary IPv4 addresses and /28
// prefixes on an ENI, within its instance type's per-ENI limit, and EC2's reassignment rule (an
// address of another ENI moves only with AllowReassignment, and never a primary).

import type { AssignPrivateIpAddressesInput, AssignPrivateIpAddressesOutput, UnassignPrivateIpAddressesInput } from "./api.ts";
import type { NetworkInterface } from "./types.ts";
import { insufficientFreeAddresses, invalidParameterValue, missingParameter, privateIpLimitExceeded } from "./errors.ts";
import { formatCidr4, formatIpv4, parseCidr4, parseIpv4, PREFIX_LENGTH } from "../ipv4.ts";
import { checkIpv4Combination, countedPrefixes, explicitAddress, explicitPrefixes, pickAddresses } from "./address-plans.ts";
import type { ModelState } from "./model-state.ts";

export function assignPrivateIpAddresses(s: ModelState, input: AssignPrivateIpAddressesInput): AssignPrivateIpAddressesOutput {
  const { eni } = s.eniRecord(input.networkInterfaceId);
  const { pool } = s.subnetRecord(eni.subnetId);
  const explicit = input.privateIpAddresses ?? [];
  checkIpv4Combination({
    addressCount: input.secondaryPrivateIpAddressCount,
    addresses: explicit,
    prefixCount: input.ipv4PrefixCount,
    prefixes: input.ipv4Prefixes,
  });
  const requested =
    explicit.length + (input.secondaryPrivateIpAddressCount ?? 0) + (input.ipv4PrefixCount ?? 0) + (input.ipv4Prefixes?.length ?? 0);
  if (requested === 0) {
    throw missingParameter("Either privateIpAddress, secondaryPrivateIpAddressCount, ipv4Prefix or ipv4PrefixCount must be specified.");
  }
  const type = s.attachedType(eni);
  if (type && eni.privateIps.length + eni.ipv4Prefixes.length + requested > type.ipv4PerEni) throw privateIpLimitExceeded();

  // Explicit addresses: free ones are taken; those of another ENI only move with AllowReassignment.
  const planned = new Set<number>();
  const moved = new Map<number, NetworkInterface>(); // address -> ENI losing it
  for (const text of explicit) {
    const address = parseIpv4(text);
    if (address === undefined) throw invalidParameterValue(`Invalid private IP address '${text}'.`);
    if (planned.has(address)) throw invalidParameterValue(`Address '${text}' is specified more than once.`);
    const owner = pool.ownerOfAddress(address);
    if (owner !== undefined) {
      if (owner === eni.networkInterfaceId) throw invalidParameterValue(`Address '${text}' is already assigned to '${owner}'.`);
      if (!input.allowReassignment) {
        throw invalidParameterValue(`Address '${text}' is assigned to another network interface: '${owner}'.`);
      }
      const loser = s.eniRecord(owner).eni;
      if (loser.privateIps[0]?.address === text) {
        throw invalidParameterValue(`Address '${text}' is the primary private IP address of '${owner}' and cannot be reassigned.`);
      }
      moved.set(address, loser);
    } else {
      explicitAddress(pool, text, planned, "assign");
    }
    planned.add(address);
  }
  const fresh = explicit.length - moved.size + (input.secondaryPrivateIpAddressCount ?? 0);
  if (fresh > pool.available) throw insufficientFreeAddresses();
  const counted = pickAddresses(pool, input.secondaryPrivateIpAddressCount ?? 0, planned);
  const prefixes = [
    ...explicitPrefixes(pool, input.ipv4Prefixes ?? [], planned, 0),
    ...countedPrefixes(pool, input.ipv4PrefixCount, planned, 0),
  ];

  // Commit: losers first, so followers see the address leave before it reappears elsewhere.
  const losers = new Set<NetworkInterface>();
  for (const [address, loser] of moved) {
    const text = formatIpv4(address);
    loser.privateIps = loser.privateIps.filter((p) => p.address !== text);
    pool.releaseAddress(address);
    losers.add(loser);
  }
  for (const loser of losers) s.emit({ kind: "eni-addresses-changed", eni: structuredClone(loser) });
  const assigned = [...planned, ...counted];
  for (const address of assigned) {
    pool.takeAddress(address, eni.networkInterfaceId);
    eni.privateIps.push({ address: formatIpv4(address), primary: false });
  }
  for (const base of prefixes) {
    pool.takePrefix(base, eni.networkInterfaceId);
    eni.ipv4Prefixes.push(`${formatIpv4(base)}/${PREFIX_LENGTH}`);
  }
  s.emit({ kind: "eni-addresses-changed", eni: structuredClone(eni) });
  return {
    networkInterfaceId: eni.networkInterfaceId,
    assignedPrivateIpAddresses: assigned.map(formatIpv4),
    assignedIpv4Prefixes: prefixes.map((base) => `${formatIpv4(base)}/${PREFIX_LENGTH}`),
  };
}

export function unassignPrivateIpAddresses(s: ModelState, input: UnassignPrivateIpAddressesInput): void {
  const { eni } = s.eniRecord(input.networkInterfaceId);
  const { pool } = s.subnetRecord(eni.subnetId);
  const addresses = input.privateIpAddresses ?? [];
  const prefixes = input.ipv4Prefixes ?? [];
  if (addresses.length === 0 && prefixes.length === 0) {
    throw missingParameter("Either privateIpAddress or ipv4Prefix must be specified.");
  }
  const primary = eni.privateIps[0]?.address;
  const releasedAddresses = addresses.map((text) => {
    const address = parseIpv4(text);
    if (address === undefined) throw invalidParameterValue(`Invalid private IP address '${text}'.`);
    const canonical = formatIpv4(address);
    if (canonical === primary) {
      throw invalidParameterValue(`The primary private IP address '${canonical}' of '${eni.networkInterfaceId}' cannot be unassigned.`);
    }
    if (!eni.privateIps.some((p) => p.address === canonical)) {
      throw invalidParameterValue(`Some of the specified addresses are not assigned to interface ${eni.networkInterfaceId}`);
    }
    return address;
  });
  const releasedPrefixes = prefixes.map((text) => {
    const cidr = parseCidr4(text);
    if (!cidr || !eni.ipv4Prefixes.includes(formatCidr4(cidr))) {
      throw invalidParameterValue(`Some of the specified prefixes are not assigned to interface ${eni.networkInterfaceId}`);
    }
    return cidr.network;
  });
  for (const address of releasedAddresses) {
    pool.releaseAddress(address);
    const text = formatIpv4(address);
    eni.privateIps = eni.privateIps.filter((p) => p.address !== text);
  }
  for (const base of releasedPrefixes) {
    pool.releasePrefix(base);
    const text = `${formatIpv4(base)}/${PREFIX_LENGTH}`;
    eni.ipv4Prefixes = eni.ipv4Prefixes.filter((p) => p !== text);
  }
  s.emit({ kind: "eni-addresses-changed", eni: structuredClone(eni) });
}
