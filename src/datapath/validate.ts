// Shape checks for every value that ends up on an ip/iptables command line. They run before any
// command is built, so a malformed value fails with a message naming it instead of becoming an
// unexpected argument (a name starting with "-" would be read as an option). Addresses are read by
// src/net, the system's one address parser.

import { parseIp, parseNetwork, type ParsedCidr } from "../net/ip.ts";

export class DatapathInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatapathInputError";
  }
}

function fail(what: string, value: unknown, allowed: string): never {
  throw new DatapathInputError(`invalid ${what} ${JSON.stringify(value)}: ${allowed}`);
}

export function validateNetnsName(value: string): string {
  if (typeof value !== "string" || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(value)) {
    fail("network namespace name", value, "1-64 of [A-Za-z0-9_.-], not starting with '-' or '.'");
  }
  return value;
}

/** Linux interface names: at most 15 bytes, no '/', whitespace or ':'; we also refuse a leading '-'. */
export function validateIfName(value: string): string {
  if (typeof value !== "string" || !/^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,14}$/.test(value) || value === "." || value === "..") {
    fail("interface name", value, "1-15 of [A-Za-z0-9_.@-], not starting with '-' or '.'");
  }
  return value;
}

/** Returns the MAC in the lower-case form `ip link` prints. */
export function validateMac(value: string): string {
  if (typeof value !== "string" || !/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/.test(value)) {
    fail("MAC address", value, "six colon-separated hex octets, e.g. 02:4f:1a:00:00:01");
  }
  return value.toLowerCase();
}

/** Dotted quad without leading zeros (which some parsers read as octal); returns it unchanged. */
export function validateIpv4(value: string, what = "IPv4 address"): string {
  if (typeof value !== "string" || parseIp(value)?.family !== "4") fail(what, value, "a dotted-quad IPv4 address: four octets 0-255, no leading zeros");
  return value;
}

/** A pod's address, IPv4 or IPv6 (the datastore's text form); returns it with its family. */
export function validatePodAddress(value: string, what = "pod address"): { address: string; family: "4" | "6" } {
  const ip = typeof value === "string" ? parseIp(value) : undefined;
  if (ip === undefined) fail(what, value, "an IPv4 address (dotted quad) or an IPv6 address");
  return { address: value, family: ip.family };
}

/**
 * Parses `a.b.c.d/n` and clears host bits, as the reference does (net.ParseCIDR(...).String()); the
 * canonical form is also what iptables-save prints, which the idempotence checks compare against.
 */
export function parseIpv4Cidr(value: string, what = "IPv4 CIDR"): ParsedCidr {
  const network = typeof value === "string" ? parseNetwork(value.trim()) : undefined;
  if (network === undefined || network.cidr.family !== "4") fail(what, value, "a.b.c.d/n with n in 0-32");
  return network.cidr;
}

/** Canonical CIDR texts, first occurrence kept: duplicates would become duplicate rules. */
export function canonicalCidrs(values: readonly string[], what: string): string[] {
  const out: string[] = [];
  for (const value of values) {
    const text = parseIpv4Cidr(value, what).text;
    if (!out.includes(text)) out.push(text);
  }
  return out;
}

/** Reference §5.8: 576-9001 for IPv4 ENIs. */
export function validateMtu(value: number): number {
  if (!Number.isInteger(value) || value < 576 || value > 9001) fail("MTU", value, "an integer in 576-9001");
  return value;
}

/** Reference: AWS_VPC_K8S_CNI_CONNMARK must be in 1..2^32-1. */
export function validateMark(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 0xffffffff) fail("connmark", value, "an integer in 1..0xffffffff");
  return value;
}

/** Host veth name prefix (reference: at most 4 characters); used as `-i <prefix>+`. */
export function validateVethPrefix(value: string): string {
  if (typeof value !== "string" || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,3}$/.test(value)) {
    fail("veth prefix", value, "1-4 of [A-Za-z0-9_.-], not starting with '-' or '.'");
  }
  return value;
}

export function validateDeviceNumber(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 255) fail("device number", value, "an integer in 0-255");
  return value;
}

/** Mark as iptables-save and ip rule print it (Go's %#x in the reference). */
export function hexMark(value: number): string {
  return `0x${validateMark(value).toString(16)}`;
}
