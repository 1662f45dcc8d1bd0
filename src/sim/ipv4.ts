// IPv4 address and CIDR arithmetic on unsigned 32-bit numbers. Everything the model does with
// subnets (containment, overlap, /28 alignment, the reserved addresses) is done on numbers, never on
// strings, so "10.0.1.010" and "10.0.1.10" cannot be two different addresses.

export interface Cidr4 {
  network: number; // first address, host bits zero
  prefixLength: number;
  size: number; // number of addresses
}

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses a dotted quad; undefined if it is not one (leading zeros are refused, as inet_pton does). */
export function parseIpv4(text: string): number | undefined {
  const m = DOTTED_QUAD.exec(text);
  if (!m) return undefined;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i] as string;
    if (part.length > 1 && part.startsWith("0")) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

/** Parses "a.b.c.d/n"; undefined if malformed or if host bits are set (EC2 refuses those too). */
export function parseCidr4(text: string): Cidr4 | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const address = parseIpv4(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  if (address === undefined || !/^\d{1,2}$/.test(lengthText)) return undefined;
  const prefixLength = Number(lengthText);
  if (prefixLength > 32) return undefined;
  const size = 2 ** (32 - prefixLength);
  if (address % size !== 0) return undefined;
  return { network: address, prefixLength, size };
}

export function formatCidr4(cidr: Cidr4): string {
  return `${formatIpv4(cidr.network)}/${cidr.prefixLength}`;
}

export function cidrContainsAddress(cidr: Cidr4, address: number): boolean {
  return address >= cidr.network && address < cidr.network + cidr.size;
}

/** True if `inner` lies entirely within `outer`. */
export function cidrContainsCidr(outer: Cidr4, inner: Cidr4): boolean {
  return inner.network >= outer.network && inner.network + inner.size <= outer.network + outer.size;
}

export function cidrsOverlap(a: Cidr4, b: Cidr4): boolean {
  return a.network < b.network + b.size && b.network < a.network + a.size;
}

/**
 * The five addresses AWS keeps in every subnet: the network address, the VPC router (+1), the DNS
 * server (+2), one reserved for future use (+3) and the broadcast address (last).
 */
export function isReservedInSubnet(subnet: Cidr4, address: number): boolean {
  const offset = address - subnet.network;
  return offset <= 3 || offset === subnet.size - 1;
}

export const RESERVED_PER_SUBNET = 5;

/** Size of an IPv4 prefix that EC2 delegates to an ENI (a /28). */
export const PREFIX_SIZE = 16;
export const PREFIX_LENGTH = 28;
