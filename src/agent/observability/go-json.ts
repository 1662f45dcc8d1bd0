// Values as Go's encoding/json writes them, for introspection documents that must match aws-node's
// byte for byte in shape: net.IPNet ({"IP": text, "Mask": base64 of the mask bytes}) and time.Time
// (RFC3339 with nanoseconds, trailing zeros dropped; the zero time when unset).

export const GO_ZERO_TIME = "0001-01-01T00:00:00Z";

/** time.Time's JSON for a time in ms since the epoch (UTC); null is Go's zero time. */
export function goTime(ms: number | null): string {
  if (ms === null) return GO_ZERO_TIME;
  const iso = new Date(ms).toISOString(); // 2024-01-02T03:04:05.120Z
  const m = /^(.*T\d\d:\d\d:\d\d)\.(\d{3})Z$/.exec(iso);
  if (!m) return iso;
  const fraction = (m[2] ?? "").replace(/0+$/, "");
  return `${m[1]}${fraction === "" ? "" : `.${fraction}`}Z`;
}

export interface GoIpNet {
  readonly IP: string;
  readonly Mask: string;
}

/** net.IPNet's JSON for "10.0.0.5/32" or "2600:1f14::/80": the network address and the base64 mask. */
export function goIpNet(cidr: string): GoIpNet {
  const slash = cidr.lastIndexOf("/");
  if (slash < 0) throw new Error(`not a CIDR: ${cidr}`);
  const address = cidr.slice(0, slash);
  const bits = Number(cidr.slice(slash + 1));
  const bytes = address.includes(":") ? parseIpv6(address) : parseIpv4(address);
  const width = bytes.length * 8;
  if (!Number.isInteger(bits) || bits < 0 || bits > width) throw new Error(`not a CIDR: ${cidr}`);
  const mask = new Uint8Array(bytes.length);
  for (let i = 0; i < mask.length; i++) mask[i] = 0xff & (0xff << Math.max(0, 8 - Math.max(0, bits - i * 8)));
  const network = bytes.map((b, i) => b & (mask[i] ?? 0));
  return { IP: bytes.length === 4 ? Array.from(network).join(".") : formatIpv6(network), Mask: Buffer.from(mask).toString("base64") };
}

function parseIpv4(text: string): Uint8Array {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) throw new Error(`not an IPv4 address: ${text}`);
  return Uint8Array.from(parts.map(Number));
}

function parseIpv6(text: string): Uint8Array {
  const halves = text.split("::");
  if (halves.length > 2) throw new Error(`not an IPv6 address: ${text}`);
  const groups = (part: string | undefined): number[] => {
    if (part === undefined || part === "") return [];
    return part.split(":").map((g) => {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new Error(`not an IPv6 address: ${text}`);
      return parseInt(g, 16);
    });
  };
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) throw new Error(`not an IPv6 address: ${text}`);
  const all = [...head, ...Array<number>(halves.length === 1 ? 0 : missing).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

/** RFC 5952 text, as Go's IP.String: lower case, the longest run of two or more zero groups as "::". */
function formatIpv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
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
