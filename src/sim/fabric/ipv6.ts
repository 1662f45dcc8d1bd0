// Strict IPv6 parsing for the fabric, over the emulator's one IPv6 arithmetic module, and the
// modified EUI-64 link-local address of a MAC. Like ipv4.ts: every address that reaches an
// `ip -batch` or `nft -f` script passes through here first, and a malformed one throws.

import { formatCidr6, formatIpv6, parseCidr6, parseIpv6, type Cidr6 } from "../ipv6.ts";

export type { Cidr6 };
export { formatCidr6 };

/** Canonical RFC 5952 text (the form the kernel prints), or an error. */
export function canonicalIpv6(text: string): string {
  const value = parseIpv6(text);
  if (value === undefined) throw new Error(`not an IPv6 address: ${JSON.stringify(text)}`);
  return formatIpv6(value);
}

/** Parses "addr/n"; the address must be the network address. */
export function parseCidr6Strict(text: string): Cidr6 {
  const cidr = parseCidr6(text);
  if (cidr === undefined) throw new Error(`not an IPv6 CIDR (or host bits set): ${JSON.stringify(text)}`);
  return cidr;
}

export function isIpv6Text(text: string): boolean {
  return text.includes(":");
}

/**
 * The link-local address a Linux interface with this MAC gives itself (fe80:: + modified EUI-64:
 * ff:fe in the middle, the universal/local bit flipped). EC2's router is reached at the one of its
 * MAC; the router reaches an ENI at the one of the ENI's.
 */
export function linkLocalOf(mac: string): string {
  const octets = mac.split(":").map((octet) => parseInt(octet, 16));
  if (octets.length !== 6 || octets.some((octet) => !Number.isInteger(octet) || octet < 0 || octet > 255)) {
    throw new Error(`invalid MAC address ${JSON.stringify(mac)}`);
  }
  const [a, b, c, d, e, f] = octets as [number, number, number, number, number, number];
  const group = (high: number, low: number): string => ((high << 8) | low).toString(16);
  return canonicalIpv6(`fe80::${group(a ^ 0x02, b)}:${group(c, 0xff)}:${group(0xfe, d)}:${group(e, f)}`);
}
