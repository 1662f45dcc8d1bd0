// Values as Go's encoding/json writes them, for introspection documents that must match aws-node's
// byte for byte in shape: net.IPNet ({"IP": text, "Mask": base64 of the mask bytes}) and time.Time
// (RFC3339 with nanoseconds, trailing zeros dropped; the zero time when unset).

import { formatIp, parseIp } from "../../net/ip.ts";

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
  const ip = parseIp(address);
  if (!ip) throw new Error(`not an IPv${address.includes(":") ? 6 : 4} address: ${address}`);
  const bits = Number(cidr.slice(slash + 1));
  const width = ip.family === "6" ? 128 : 32;
  if (!/^\d{1,3}$/.test(cidr.slice(slash + 1)) || bits > width) throw new Error(`not a CIDR: ${cidr}`);
  const hostBits = BigInt(width - bits);
  const mask = ((1n << BigInt(width)) - 1n) ^ ((1n << hostBits) - 1n);
  const maskBytes = new Uint8Array(width / 8);
  for (let i = 0; i < maskBytes.length; i++) maskBytes[i] = Number((mask >> BigInt(width - 8 * (i + 1))) & 0xffn);
  return { IP: formatIp(ip.family, ip.value & mask), Mask: Buffer.from(maskBytes).toString("base64") };
}
