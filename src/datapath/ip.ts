// iproute2 access: JSON (`ip -j`) for reading, one argv per change for writing. Rules and routes
// are read back structurally so reconciling compares fields, not text whose layout may vary.

import { ip, isNotFound, type NetnsOption } from "./exec.ts";
import { validateIfName, validateMac } from "./validate.ts";

export interface Link {
  ifname: string;
  ifindex: number;
  /** Lower-case MAC, "" for links without one. */
  address: string;
  mtu: number;
  flags: string[];
}

export async function listLinks(target: NetnsOption): Promise<Link[]> {
  const { stdout } = await ip(target, ["-j", "link", "show"]);
  const raw = JSON.parse(stdout) as Array<Record<string, unknown>>;
  return raw.map((entry) => ({
    ifname: String(entry["ifname"]),
    ifindex: Number(entry["ifindex"]),
    address: typeof entry["address"] === "string" ? entry["address"].toLowerCase() : "",
    mtu: Number(entry["mtu"]),
    flags: Array.isArray(entry["flags"]) ? entry["flags"].map(String) : [],
  }));
}

export interface LinkWait {
  /** Looks this many times in all (the reference: 5). */
  attempts: number;
  /** Pause between looks (the reference: 3 s). */
  intervalMs: number;
}

export class LinkNotFoundError extends Error {
  readonly mac: string;
  constructor(mac: string, wait: LinkWait) {
    super(`no interface with MAC address ${mac} (looked ${wait.attempts} times, ${wait.intervalMs} ms apart)`);
    this.name = "LinkNotFoundError";
    this.mac = mac;
  }
}

/** Finds the link carrying `mac`; a just-attached ENI may take a moment to appear, hence the bounded wait. */
export async function findLinkByMac(target: NetnsOption, mac: string, wait: LinkWait): Promise<Link> {
  const wanted = validateMac(mac);
  const attempts = Math.max(1, Math.floor(wait.attempts));
  for (let attempt = 1; ; attempt++) {
    const link = (await listLinks(target)).find((candidate) => candidate.address === wanted);
    if (link !== undefined) return link;
    if (attempt >= attempts) throw new LinkNotFoundError(wanted, wait);
    await new Promise((resolve) => setTimeout(resolve, wait.intervalMs));
  }
}

export async function setLinkMtuUp(target: NetnsOption, ifname: string, mtu: number): Promise<void> {
  await ip(target, ["link", "set", "dev", validateIfName(ifname), "mtu", String(mtu), "up"]);
}

export async function setLinkMtu(target: NetnsOption, ifname: string, mtu: number): Promise<void> {
  await ip(target, ["link", "set", "dev", validateIfName(ifname), "mtu", String(mtu)]);
}

export interface Address {
  local: string;
  prefixlen: number;
  scope: string;
}

export async function listIpv4Addresses(target: NetnsOption, ifname: string): Promise<Address[]> {
  const { stdout } = await ip(target, ["-j", "-4", "addr", "show", "dev", validateIfName(ifname)]);
  const raw = JSON.parse(stdout) as Array<{ addr_info?: Array<Record<string, unknown>> }>;
  return (raw[0]?.addr_info ?? []).map((info) => ({
    local: String(info["local"]),
    prefixlen: Number(info["prefixlen"]),
    scope: String(info["scope"]),
  }));
}

/** An IPv4 policy rule as `ip -j rule` reports it; "all" and absent selectors become undefined. */
export interface IpRule {
  priority: number;
  table: string;
  src?: string;
  srclen?: number;
  dst?: string;
  dstlen?: number;
  fwmark?: string;
  fwmask?: string;
  not: boolean;
  /** Selectors this module does not model (iif, oif, ipproto, …): such a rule is never ours to reshape. */
  other: string[];
}

const MODELLED_RULE_KEYS = new Set(["priority", "table", "src", "srclen", "dst", "dstlen", "fwmark", "fwmask", "not", "flags"]);

export async function listIpv4Rules(target: NetnsOption): Promise<IpRule[]> {
  const { stdout } = await ip(target, ["-j", "-4", "rule", "show"]);
  return parseIpv4Rules(JSON.parse(stdout) as Array<Record<string, unknown>>);
}

/** The rules of an already parsed `ip -j -4 rule show` (also one part of an `ip -j -batch` read). */
export function parseIpv4Rules(raw: ReadonlyArray<Record<string, unknown>>): IpRule[] {
  return raw.map((entry) => {
    const rule: IpRule = { priority: Number(entry["priority"]), table: String(entry["table"]), not: "not" in entry, other: [] };
    const src = entry["src"];
    if (typeof src === "string" && src !== "all") {
      rule.src = src;
      rule.srclen = typeof entry["srclen"] === "number" ? entry["srclen"] : 32;
    }
    const dst = entry["dst"];
    if (typeof dst === "string" && dst !== "all") {
      rule.dst = dst;
      rule.dstlen = typeof entry["dstlen"] === "number" ? entry["dstlen"] : 32;
    }
    if (typeof entry["fwmark"] === "string") rule.fwmark = entry["fwmark"];
    if (typeof entry["fwmask"] === "string") rule.fwmask = entry["fwmask"];
    rule.other = Object.keys(entry).filter((key) => !MODELLED_RULE_KEYS.has(key)).sort();
    return rule;
  });
}

/** The selector arguments naming `rule` for `ip rule add|del`. */
export function ruleArgs(rule: Omit<IpRule, "other">): string[] {
  const args = ["priority", String(rule.priority)];
  if (rule.not) args.push("not");
  if (rule.src !== undefined) args.push("from", `${rule.src}/${rule.srclen ?? 32}`);
  if (rule.dst !== undefined) args.push("to", `${rule.dst}/${rule.dstlen ?? 32}`);
  if (rule.fwmark !== undefined) args.push("fwmark", rule.fwmask === undefined ? rule.fwmark : `${rule.fwmark}/${rule.fwmask}`);
  args.push("lookup", rule.table);
  return args;
}

export function sameRule(a: Omit<IpRule, "other">, b: IpRule): boolean {
  return (
    b.other.length === 0 &&
    a.priority === b.priority &&
    a.table === b.table &&
    a.not === b.not &&
    a.src === b.src &&
    (a.src === undefined || (a.srclen ?? 32) === b.srclen) &&
    a.dst === b.dst &&
    (a.dst === undefined || (a.dstlen ?? 32) === b.dstlen) &&
    a.fwmark === b.fwmark &&
    a.fwmask === b.fwmask
  );
}

export async function addRule(target: NetnsOption, rule: Omit<IpRule, "other">): Promise<void> {
  await ip(target, ["rule", "add", ...ruleArgs(rule)]);
}

/** Deletes one rule; one already gone counts as deleted. */
export async function deleteRule(target: NetnsOption, rule: Omit<IpRule, "other">): Promise<void> {
  try {
    await ip(target, ["rule", "del", ...ruleArgs(rule)]);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/**
 * Makes the rules at the priorities in `owned` exactly `desired` (which must use only those
 * priorities): missing ones added, ones at those priorities that are not desired (stale from an
 * earlier run or configuration) deleted, duplicates removed. Rules at other priorities are untouched.
 */
export async function reconcileRules(
  target: NetnsOption,
  owned: (rule: IpRule) => boolean,
  desired: ReadonlyArray<Omit<IpRule, "other">>,
): Promise<void> {
  const current = (await listIpv4Rules(target)).filter(owned);
  const kept = new Set<number>();
  for (const rule of current) {
    const index = desired.findIndex((want, i) => !kept.has(i) && sameRule(want, rule));
    if (index >= 0) kept.add(index);
    else await deleteRule(target, rule);
  }
  for (const [index, rule] of desired.entries()) {
    if (!kept.has(index)) await addRule(target, rule);
  }
}

export interface IpRoute {
  dst: string;
  table: string;
  dev?: string;
  gateway?: string;
  prefsrc?: string;
  scope?: string;
  protocol?: string;
  type?: string;
}

/** IPv4 routes of every table (`ip -4 route show table all`); the main table reads as "main". */
export async function listIpv4Routes(target: NetnsOption): Promise<IpRoute[]> {
  const { stdout } = await ip(target, ["-j", "-4", "route", "show", "table", "all"]);
  return parseIpv4Routes(JSON.parse(stdout) as Array<Record<string, unknown>>);
}

/** The routes of an already parsed `ip -j -4 route show …`; without a table key, "main". */
export function parseIpv4Routes(raw: ReadonlyArray<Record<string, unknown>>): IpRoute[] {
  return raw.map((entry) => {
    const route: IpRoute = { dst: String(entry["dst"]), table: typeof entry["table"] === "string" ? entry["table"] : "main" };
    for (const key of ["dev", "gateway", "prefsrc", "scope", "protocol", "type"] as const) {
      const value = entry[key];
      if (typeof value === "string") route[key] = value;
    }
    return route;
  });
}

/** Runs `ip route <args>` and treats "no such route" as done: for idempotent deletions. */
export async function deleteRoute(target: NetnsOption, args: readonly string[]): Promise<void> {
  try {
    await ip(target, ["route", "del", ...args]);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

export async function replaceRoute(target: NetnsOption, args: readonly string[]): Promise<void> {
  await ip(target, ["route", "replace", ...args]);
}
