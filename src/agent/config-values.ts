// Parsers for the text of single environment variables. Each returns the parsed value or a description
// of what would have been accepted, so the caller can name the variable and collect every problem
// before refusing to start.

import { parseNetwork } from "../net/ip.ts";

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly allowed: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const refuse = <T>(allowed: string): Parsed<T> => ({ ok: false, allowed });

// Exactly the spellings Go's strconv.ParseBool takes, so every value the reference accepts still works.
const TRUE_SPELLINGS = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE_SPELLINGS = new Set(["0", "f", "F", "FALSE", "false", "False"]);
export const BOOLEAN_ALLOWED = "true or false (also 1, t, T, TRUE, True, 0, f, F, FALSE, False)";

export function parseBoolean(text: string): Parsed<boolean> {
  if (TRUE_SPELLINGS.has(text)) return ok(true);
  if (FALSE_SPELLINGS.has(text)) return ok(false);
  return refuse(BOOLEAN_ALLOWED);
}

/** A decimal integer, as Go's strconv.Atoi reads it (optional sign, leading zeros allowed). */
export function parseInteger(text: string, min: number, max: number, allowed: string): Parsed<number> {
  if (!/^[+-]?\d+$/.test(text)) return refuse(allowed);
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) return refuse(allowed);
  return ok(value);
}

/**
 * An integer in Go's base-0 syntax (strconv.ParseInt(s, 0, 64)), which the reference uses for the
 * connmark: 0x/0X hex, 0o/0O or a leading 0 octal, 0b/0B binary, otherwise decimal. Go's digit
 * separators ("0x_80") are not accepted; no one writes a mark that way.
 */
export function parseGoInteger(text: string): number | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9]\d*)$/.exec(text);
  if (!m) return undefined;
  const sign = m[1] === "-" ? -1 : 1;
  const digits = m[2] as string;
  let value: number;
  if (/^0[xXoObB]/.test(digits)) value = Number(digits.toLowerCase());
  else if (digits.length > 1 && digits.startsWith("0")) value = Number.parseInt(digits.slice(1), 8);
  else value = Number(digits);
  return Number.isSafeInteger(value) ? sign * value : undefined;
}

export function parseChoice<T extends string>(text: string, choices: readonly T[]): Parsed<T> {
  // Case-insensitive because the reference lowercases some of these and silently defaults the rest;
  // refusing "PRNG" outright would break working configurations for no gain.
  const found = choices.find((choice) => choice.toLowerCase() === text.toLowerCase());
  return found === undefined ? refuse(`one of ${choices.join(", ")}`) : ok(found);
}

export const IPV4_CIDR_ALLOWED = 'IPv4 CIDRs such as "10.0.0.0/16", separated by commas';

export type CidrListEntry = { readonly cidr: string; readonly hadHostBits: boolean };

/**
 * A comma-separated list of IPv4 CIDRs. Host bits are cleared (Go's net.ParseCIDR and iptables both
 * accept "10.0.0.1/16" as 10.0.0.0/16), and the caller is told so it can warn; empty items from a
 * trailing comma are ignored; duplicates are dropped so rule sets stay minimal.
 */
export function parseIpv4CidrList(text: string): Parsed<readonly CidrListEntry[]> {
  const entries: CidrListEntry[] = [];
  const bad: string[] = [];
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const network = parseNetwork(item);
    if (network === undefined || network.cidr.family !== "4") {
      bad.push(item);
      continue;
    }
    const cidr = network.cidr.text;
    if (!entries.some((entry) => entry.cidr === cidr)) entries.push({ cidr, hadHostBits: network.hadHostBits });
  }
  if (bad.length > 0) return refuse(`${IPV4_CIDR_ALLOWED} (not an IPv4 CIDR: ${bad.map((b) => JSON.stringify(b)).join(", ")})`);
  return ok(entries);
}

export type BindAddress =
  | { readonly kind: "tcp"; readonly host: string; readonly port: number }
  | { readonly kind: "unix"; readonly path: string };

export const BIND_ADDRESS_ALLOWED = 'HOST:PORT (e.g. "127.0.0.1:61679", "[::1]:61679"), ":PORT" for all interfaces, or "unix:/absolute/path"';

/** The listen address forms the reference accepts for introspection: Go's "host:port", or "unix:<path>". */
export function parseBindAddress(text: string): Parsed<BindAddress> {
  if (text.startsWith("unix:")) {
    const path = text.slice("unix:".length);
    return path.startsWith("/") ? ok({ kind: "unix", path }) : refuse(BIND_ADDRESS_ALLOWED);
  }
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]*)):(\d{1,5})$/.exec(text);
  if (!m) return refuse(BIND_ADDRESS_ALLOWED);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return refuse(`${BIND_ADDRESS_ALLOWED}; the port must be 1..65535`);
  // An empty host means every interface, as with Go's ":61678".
  return ok({ kind: "tcp", host: m[1] ?? m[2] ?? "", port });
}

export function formatBindAddress(address: BindAddress): string {
  if (address.kind === "unix") return `unix:${address.path}`;
  return address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

export const ABSOLUTE_PATH_ALLOWED = "an absolute path";

export function parseAbsolutePath(text: string): Parsed<string> {
  // A relative path would resolve against whatever directory the agent happens to start in.
  if (!text.startsWith("/") || text.includes("\0")) return refuse(ABSOLUTE_PATH_ALLOWED);
  return ok(text.length > 1 ? text.replace(/\/+$/, "") : text);
}

export type LogDestination =
  | { readonly kind: "stdout" }
  | { readonly kind: "stderr" }
  | { readonly kind: "file"; readonly path: string };

export function parseLogDestination(text: string, stdoutAllowed: boolean): Parsed<LogDestination> {
  const allowed = stdoutAllowed ? '"stdout", "stderr" or an absolute file path' : '"stderr" or an absolute file path ("stdout" belongs to the CNI protocol)';
  if (text === "stdout") return stdoutAllowed ? ok({ kind: "stdout" }) : refuse(allowed);
  if (text === "stderr") return ok({ kind: "stderr" });
  const path = parseAbsolutePath(text);
  return path.ok ? ok({ kind: "file", path: path.value }) : refuse(allowed);
}

export type Tags = Readonly<Record<string, string>>;

// EC2's own tag limits: a key of 1..128 characters not starting with "aws:", a value of at most 256.
const MAX_TAG_KEY = 128;
const MAX_TAG_VALUE = 256;
// The reference drops keys containing this, because they would overwrite the tags it manages itself
// (node.k8s.amazonaws.com/instance_id, cluster.k8s.amazonaws.com/name, ...). We refuse them instead.
const RESERVED_TAG_SUBSTRING = "k8s.amazonaws.com";
export const TAGS_ALLOWED = `a JSON object of string values, e.g. {"team":"net"}; keys 1..${MAX_TAG_KEY} characters, not starting with "aws:" and not containing "${RESERVED_TAG_SUBSTRING}"; values up to ${MAX_TAG_VALUE} characters`;

export function parseTags(text: string, maxTags: number): Parsed<Tags> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return refuse(`${TAGS_ALLOWED} (this is not valid JSON)`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return refuse(`${TAGS_ALLOWED} (this is not a JSON object)`);
  const tags: Record<string, string> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== "string") problems.push(`the value of ${JSON.stringify(key)} is not a string`);
    else if (value.length > MAX_TAG_VALUE) problems.push(`the value of ${JSON.stringify(key)} is longer than ${MAX_TAG_VALUE}`);
    if (key.length === 0 || key.length > MAX_TAG_KEY) problems.push(`the key ${JSON.stringify(key)} is not 1..${MAX_TAG_KEY} characters`);
    else if (key.toLowerCase().startsWith("aws:")) problems.push(`the key ${JSON.stringify(key)} uses the prefix "aws:", reserved by AWS`);
    else if (key.includes(RESERVED_TAG_SUBSTRING)) problems.push(`the key ${JSON.stringify(key)} contains "${RESERVED_TAG_SUBSTRING}", reserved for the tags the agent sets`);
    if (typeof value === "string") tags[key] = value;
  }
  if (Object.keys(tags).length > maxTags) problems.push(`${Object.keys(tags).length} tags, more than the ${maxTags} left under EC2's limit of 50 per ENI`);
  return problems.length > 0 ? refuse(`${TAGS_ALLOWED} (${problems.join("; ")})`) : ok(tags);
}

// A Kubernetes label or annotation key: an optional DNS-subdomain prefix and "/", then a name.
const QUALIFIED_NAME = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
export const LABEL_KEY_ALLOWED = 'a Kubernetes label or annotation key such as "k8s.amazonaws.com/eniConfig" or "topology.kubernetes.io/zone"';

export function parseLabelKey(text: string): Parsed<string> {
  const slash = text.lastIndexOf("/");
  const prefix = slash < 0 ? undefined : text.slice(0, slash);
  const name = slash < 0 ? text : text.slice(slash + 1);
  const prefixOk = prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix));
  return prefixOk && QUALIFIED_NAME.test(name) ? ok(text) : refuse(LABEL_KEY_ALLOWED);
}
