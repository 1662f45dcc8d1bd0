// Strict IPv4 parsing for the fabric, over the emulator's one IPv4 arithmetic module. Every address
// and name that reaches an `ip -batch` or `nft -f` script passes through here first: a stray newline
// or brace in an input would otherwise become a second command, so a malformed input throws rather
// than being parsed leniently.

import { formatCidr4, formatIpv4, parseCidr4, parseIpv4 as parseIpv4OrUndefined, type Cidr4 } from "../ipv4.ts";

export type Cidr = Cidr4;
export { formatIpv4 };
export { formatCidr4 as formatCidr, cidrContainsAddress as cidrContains } from "../ipv4.ts";

export function parseIpv4(text: string): number {
  const value = parseIpv4OrUndefined(text);
  if (value === undefined) throw new Error(`not an IPv4 address: ${JSON.stringify(text)}`);
  return value;
}

/** Canonical dotted form ("010.0.0.1" is refused, so the same address always yields the same text). */
export function canonicalIpv4(text: string): string {
  return formatIpv4(parseIpv4(text));
}

/** Parses "a.b.c.d/n"; the address must be the network address (as EC2 and the kernel expect). */
export function parseCidr(text: string): Cidr {
  const cidr = parseCidr4(text);
  if (cidr === undefined) throw new Error(`not an IPv4 CIDR (or host bits set): ${JSON.stringify(text)}`);
  return cidr;
}

/** The VPC router's address in a subnet: the first one after the network address. */
export function subnetGateway(cidr: Cidr): string {
  return formatIpv4(cidr.network + 1);
}

/** A CIDR as the kernel prints it: a /32 without its length. */
export function kernelForm(cidr: Cidr): string {
  return cidr.prefixLength === 32 ? formatIpv4(cidr.network) : formatCidr4(cidr);
}
