// AssignIpv6Addresses and UnassignIpv6Addresses: IPv6 addresses and /80 prefixes on an ENI, from
// its subnet's /64, within its instance type's per-ENI IPv6 limit (addresses and prefixes share it;
// prefixes only on Nitro instances).

import type { AssignIpv6AddressesInput, AssignIpv6AddressesOutput, UnassignIpv6AddressesInput } from "./api.ts";
import { invalidParameterValue, ipv6LimitExceeded, missingParameter } from "./errors.ts";
import { formatCidr6, formatIpv6, parseCidr6, parseIpv6, PREFIX6_LENGTH } from "../ipv6.ts";
import { checkIpv6Combination, checkPrefixDelegation, planAddresses6, planPrefixes6 } from "./address-plans.ts";
import type { ModelState } from "./model-state.ts";

export function assignIpv6Addresses(s: ModelState, input: AssignIpv6AddressesInput): AssignIpv6AddressesOutput {
  const { eni } = s.eniRecord(input.networkInterfaceId);
  const { pool, subnet } = s.subnetRecord(eni.subnetId);
  if (!checkIpv6Combination(input)) {
    throw missingParameter("Either ipv6Addresses, ipv6AddressCount, ipv6Prefixes or ipv6PrefixCount must be specified.");
  }
  if (!pool.cidr6) throw invalidParameterValue(`The subnet '${subnet.subnetId}' does not have an IPv6 CIDR block.`);
  const requested =
    (input.ipv6AddressCount ?? 0) + (input.ipv6Addresses?.length ?? 0) + (input.ipv6PrefixCount ?? 0) + (input.ipv6Prefixes?.length ?? 0);
  const type = s.attachedType(eni);
  if (type && eni.ipv6Addresses.length + eni.ipv6Prefixes.length + requested > type.ipv6PerEni) {
    throw ipv6LimitExceeded(eni.networkInterfaceId);
  }
  if (input.ipv6PrefixCount !== undefined || (input.ipv6Prefixes?.length ?? 0) > 0) checkPrefixDelegation(type);
  const addresses = planAddresses6(pool, input.ipv6AddressCount, input.ipv6Addresses, "assign");
  const prefixes = planPrefixes6(pool, input.ipv6PrefixCount, input.ipv6Prefixes);
  for (const address of addresses) {
    pool.takeAddress6(address, eni.networkInterfaceId);
    eni.ipv6Addresses.push(formatIpv6(address));
  }
  for (const base of prefixes) {
    pool.takePrefix6(base, eni.networkInterfaceId);
    eni.ipv6Prefixes.push(formatCidr6({ network: base, prefixLength: PREFIX6_LENGTH }));
  }
  s.emit({ kind: "eni-addresses-changed", eni: structuredClone(eni) });
  return {
    networkInterfaceId: eni.networkInterfaceId,
    assignedIpv6Addresses: addresses.map(formatIpv6),
    assignedIpv6Prefixes: prefixes.map((base) => formatCidr6({ network: base, prefixLength: PREFIX6_LENGTH })),
  };
}

export function unassignIpv6Addresses(s: ModelState, input: UnassignIpv6AddressesInput): void {
  const { eni } = s.eniRecord(input.networkInterfaceId);
  const { pool } = s.subnetRecord(eni.subnetId);
  const addresses = input.ipv6Addresses ?? [];
  const prefixes = input.ipv6Prefixes ?? [];
  if (addresses.length === 0 && prefixes.length === 0) {
    throw missingParameter("Either ipv6Addresses or ipv6Prefixes must be specified.");
  }
  const releasedAddresses = addresses.map((text) => {
    const address = parseIpv6(text);
    if (address === undefined || !eni.ipv6Addresses.includes(formatIpv6(address))) {
      throw invalidParameterValue(`Some of the specified addresses are not assigned to interface ${eni.networkInterfaceId}`);
    }
    return address;
  });
  const releasedPrefixes = prefixes.map((text) => {
    const cidr = parseCidr6(text);
    if (!cidr || !eni.ipv6Prefixes.includes(formatCidr6(cidr))) {
      throw invalidParameterValue(`Some of the specified prefixes are not assigned to interface ${eni.networkInterfaceId}`);
    }
    return cidr.network;
  });
  for (const address of releasedAddresses) {
    pool.releaseAddress6(address);
    const text = formatIpv6(address);
    eni.ipv6Addresses = eni.ipv6Addresses.filter((a) => a !== text);
  }
  for (const base of releasedPrefixes) {
    pool.releasePrefix6(base);
    const text = formatCidr6({ network: base, prefixLength: PREFIX6_LENGTH });
    eni.ipv6Prefixes = eni.ipv6Prefixes.filter((p) => p !== text);
  }
  s.emit({ kind: "eni-addresses-changed", eni: structuredClone(eni) });
}
