// IPv4 and IPv6 addresses and CIDRs: the one parser and printer of the system's production code (vpcsim
// keeps its own, on purpose). It sits in a folder of its own, below everything, because the agent (its
// datastore, configuration and introspection), the datapath and the plugin all read addresses, and the
// datapath sits below the agent: here, none of them imports upwards. Pure: it imports nothing.
//
// Both families are held as bigint so that one code path serves /32 secondary IPs, /28 prefixes and
// IPv6 /80 prefixes alike. Parsing follows Go's net.ParseIP and net.ParseCIDR (the reference's), and
// text forms follow Go's net.IP.String(), because addresses are written to the checkpoint exactly as
// the reference writes them.

export type IpFamily = "4" | "6";

export interface ParsedIp {
  family: IpFamily;
  value: bigint;
}

export interface ParsedCidr {
  family: IpFamily;
  /** Network address; host bits are always zero. */
  base: bigint;
  prefixLength: number;
  /** 32 or 128. */
  bits: number;
  /** Number of addresses, as a Number: at most 2^48 for the /80s EC2 delegates. */
  size: number;
  /** Canonical text, the map key the reference uses ("10.0.0.5/32", "2600:1f14::/80"). */
  text: string;
}

const V4_PART = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Go's ParseIP rules for IPv4: four decimal parts, no leading zeros (Go >= 1.17). */
function parseIpv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!V4_PART.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groupsOf = (half: string): number[] | undefined => {
    if (half === "") return [];
    const out: number[] = [];
    const items = half.split(":");
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as string;
      // An embedded dotted quad may end the address ("::ffff:10.0.0.1").
      if (i === items.length - 1 && item.includes(".")) {
        const v4 = parseIpv4(item);
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
        continue;
      }
      if (!HEX_GROUP.test(item)) return undefined;
      out.push(parseInt(item, 16));
    }
    return out;
  };
  const head = groupsOf(halves[0] as string);
  const tail = halves.length === 2 ? groupsOf(halves[1] as string) : [];
  if (head === undefined || tail === undefined) return undefined;
  // A dotted quad is only allowed at the very end.
  if (halves.length === 2 && (halves[0] as string).includes(".")) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    if (head.length !== 8) return undefined;
    groups = head;
  }
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  return value;
}

export function parseIp(text: string): ParsedIp | undefined {
  if (text.includes(":")) {
    const value = parseIpv6(text);
    return value === undefined ? undefined : { family: "6", value };
  }
  const value = parseIpv4(text);
  return value === undefined ? undefined : { family: "4", value };
}

function formatIpv6(value: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952, as Go does it: compress the first longest run of two or more zero groups.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

export function formatIp(family: IpFamily, value: bigint): string {
  if (family === "6") return formatIpv6(value);
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join(".");
}

/** Parses "a.b.c.d/n" or "x::/n". Host bits must be zero: EC2 never hands out anything else. */
export function parseCidr(text: string): ParsedCidr | undefined {
  const parts = splitCidr(text, /^(0|[1-9][0-9]{0,2})$/);
  if (parts === undefined || (parts.ip.value & hostMask(parts.hostBits)) !== 0n) return undefined;
  return cidrOf(parts.ip.family, parts.ip.value, parts.prefixLength);
}

/**
 * Parses a CIDR written by people (configuration), as Go's net.ParseCIDR and iptables read it: host
 * bits are cleared ("10.0.0.1/16" is 10.0.0.0/16) and reported, and the prefix length may have a
 * leading zero ("/08").
 */
export function parseNetwork(text: string): { readonly cidr: ParsedCidr; readonly hadHostBits: boolean } | undefined {
  const parts = splitCidr(text, /^[0-9]{1,3}$/);
  if (parts === undefined) return undefined;
  const host = parts.ip.value & hostMask(parts.hostBits);
  return { cidr: cidrOf(parts.ip.family, parts.ip.value - host, parts.prefixLength), hadHostBits: host !== 0n };
}

function splitCidr(text: string, lengthSyntax: RegExp): { ip: ParsedIp; prefixLength: number; hostBits: number } | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  if (ip === undefined || !lengthSyntax.test(lengthText)) return undefined;
  const bits = ip.family === "4" ? 32 : 128;
  const prefixLength = Number(lengthText);
  if (prefixLength > bits) return undefined;
  const hostBits = bits - prefixLength;
  // Larger blocks than 2^48 are never delegated and would not fit a Number size.
  if (hostBits > 48) return undefined;
  return { ip, prefixLength, hostBits };
}

function hostMask(hostBits: number): bigint {
  return (1n << BigInt(hostBits)) - 1n;
}

function cidrOf(family: IpFamily, base: bigint, prefixLength: number): ParsedCidr {
  const bits = family === "4" ? 32 : 128;
  return { family, base, prefixLength, bits, size: 2 ** (bits - prefixLength), text: `${formatIp(family, base)}/${prefixLength}` };
}

export function cidrContains(cidr: ParsedCidr, ip: ParsedIp): boolean {
  return ip.family === cidr.family && ip.value >= cidr.base && ip.value < cidr.base + BigInt(cidr.size);
}

export function cidrsOverlap(a: ParsedCidr, b: ParsedCidr): boolean {
  if (a.family !== b.family) return false;
  return a.base < b.base + BigInt(b.size) && b.base < a.base + BigInt(a.size);
}
