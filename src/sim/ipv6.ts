// IPv6 address and CIDR arithmetic on 128-bit bigints, and the canonical text form (RFC 5952: lower
// case, leading zeros dropped, the longest run of two or more zero groups written as "::"). EC2
// returns addresses in that form, so two spellings of one address must compare equal here.

export interface Cidr6 {
  network: bigint;
  prefixLength: number;
}

const GROUP = /^[0-9a-fA-F]{1,4}$/;
const ALL_ONES = (1n << 128n) - 1n;

function parseGroups(part: string): number[] | undefined {
  if (part === "") return [];
  const groups: number[] = [];
  for (const g of part.split(":")) {
    if (!GROUP.test(g)) return undefined;
    groups.push(parseInt(g, 16));
  }
  return groups;
}

/** Parses an IPv6 address (no zone, no embedded IPv4); undefined if malformed. */
export function parseIpv6(text: string): bigint | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const head = parseGroups(halves[0] as string);
    const tail = parseGroups(halves[1] as string);
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parseGroups(text);
    if (!all || all.length !== 8) return undefined;
    groups = all;
  }
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  return value;
}

export function formatIpv6(value: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // Find the longest run of zero groups (first one wins a tie); only runs of 2+ are compressed.
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
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

/** Parses "addr/n"; undefined if malformed or host bits are set. */
export function parseCidr6(text: string): Cidr6 | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const network = parseIpv6(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  if (network === undefined || !/^\d{1,3}$/.test(lengthText)) return undefined;
  const prefixLength = Number(lengthText);
  if (prefixLength > 128) return undefined;
  if ((network & hostMask6(prefixLength)) !== 0n) return undefined;
  return { network, prefixLength };
}

export function formatCidr6(cidr: Cidr6): string {
  return `${formatIpv6(cidr.network)}/${cidr.prefixLength}`;
}

/** The host bits of a /n. */
export function hostMask6(prefixLength: number): bigint {
  return ALL_ONES >> BigInt(prefixLength);
}

export function cidr6ContainsAddress(cidr: Cidr6, address: bigint): boolean {
  return (address & ~hostMask6(cidr.prefixLength) & ALL_ONES) === cidr.network;
}

export function cidr6ContainsCidr(outer: Cidr6, inner: Cidr6): boolean {
  return inner.prefixLength >= outer.prefixLength && cidr6ContainsAddress(outer, inner.network);
}

export function cidrs6Overlap(a: Cidr6, b: Cidr6): boolean {
  return cidr6ContainsCidr(a, b) || cidr6ContainsCidr(b, a);
}

/** The `index`th block of length `prefixLength` inside `parent` (a /56's /64 number 3, say). */
export function subnetOf6(parent: Cidr6, prefixLength: number, index: number): Cidr6 {
  const count = 1n << BigInt(prefixLength - parent.prefixLength);
  if (prefixLength < parent.prefixLength || !Number.isInteger(index) || index < 0 || BigInt(index) >= count) {
    throw new RangeError(`no block ${index} of length /${prefixLength} in ${formatCidr6(parent)}`);
  }
  return { network: parent.network + (BigInt(index) << BigInt(128 - prefixLength)), prefixLength };
}

/** Size of an IPv6 prefix that EC2 delegates to an ENI (a /80). */
export const PREFIX6_LENGTH = 80;
