// IPv4 parsing for the fabric. Every address and name that reaches an `ip -batch` or `nft -f`
// script passes through here first: a stray newline or brace in an input would otherwise become a
// second command, so inputs are checked for shape, not just parsed leniently.

export interface Cidr {
  network: number; // unsigned 32-bit
  length: number;
}

const OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const ADDRESS = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

export function parseIpv4(text: string): number {
  const match = ADDRESS.exec(text);
  if (match === null) throw new Error(`not an IPv4 address: ${JSON.stringify(text)}`);
  return ((Number(match[1]) << 24) | (Number(match[2]) << 16) | (Number(match[3]) << 8) | Number(match[4])) >>> 0;
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

/** Canonical dotted form ("010.0.0.1" is refused, so the same address always yields the same text). */
export function canonicalIpv4(text: string): string {
  return formatIpv4(parseIpv4(text));
}

function maskOf(length: number): number {
  return length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
}

/** Parses "a.b.c.d/n"; the address must be the network address (as EC2 and the kernel expect). */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf("/");
  if (slash < 0) throw new Error(`not an IPv4 CIDR: ${JSON.stringify(text)}`);
  const lengthText = text.slice(slash + 1);
  if (!/^(3[0-2]|[12]?[0-9])$/.test(lengthText)) throw new Error(`not an IPv4 CIDR: ${JSON.stringify(text)}`);
  const length = Number(lengthText);
  const address = parseIpv4(text.slice(0, slash));
  if ((address & ~maskOf(length)) >>> 0 !== 0) {
    throw new Error(`${text} has host bits set (network is ${formatIpv4((address & maskOf(length)) >>> 0)}/${length})`);
  }
  return { network: address, length };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIpv4(cidr.network)}/${cidr.length}`;
}

export function cidrContains(cidr: Cidr, address: number): boolean {
  return ((address & maskOf(cidr.length)) >>> 0) === cidr.network;
}

/** The VPC router's address in a subnet: the first one after the network address. */
export function subnetGateway(cidr: Cidr): string {
  return formatIpv4((cidr.network + 1) >>> 0);
}
