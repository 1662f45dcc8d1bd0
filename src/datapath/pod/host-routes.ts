// On the host (reference §5.3, §5.6): the pod's address routed to its veth in the main table, the
// rule that sends traffic to it there, and for pods on a secondary ENI the rule that sends their own
// traffic out through that ENI's table.
//
//   <ip> dev <hostVeth> scope link                   (main)
//   512:  from all to <ip> lookup main
//   1536: from <ip> lookup <T>                       (only when T is not main)

import { run } from "../exec.ts";
import { parseIpv4Routes, parseIpv4Rules } from "../ip.ts";
import { MAIN_TABLE } from "../route-table.ts";
import { DatapathInputError } from "../validate.ts";
import { describeRoute, type PodDrift } from "./drift.ts";
import type { PodNetworkStep, StepLine } from "./errors.ts";
import type { HostSide } from "./namespaces.ts";

/** Reference §5.6: `to <podIP> lookup main`. */
export const TO_POD_RULE_PRIORITY = 512;
/** Reference §5.6: `from <podIP> lookup <ENI table>`, for pods on secondary ENIs. */
export const FROM_POD_RULE_PRIORITY = 1536;

/**
 * The table's name as `ip rule` prints it, "main" for the primary ENI. Legacy results encoded table 1
 * for the primary ENI, which the reference reads as main too; 0, 253 (default) and 255 (local) are
 * never an ENI's.
 */
export function tableName(value: number): string {
  if (!Number.isInteger(value) || value < 1 || value > 0xffffffff || value === 253 || value === 255) {
    throw new DatapathInputError(`invalid route table ${JSON.stringify(value)}: an integer in 1..2^32-1, not 253 or 255`);
  }
  return value === 1 || value === MAIN_TABLE ? "main" : String(value);
}

export type Family = "4" | "6";
/** The host-route prefix length of a pod's address. */
export const hostLength = (family: Family) => (family === "6" ? 128 : 32);

/**
 * On the host, after the veth's host end is up. IPv6 (the batch runs with `ip -6`): the /128 route and
 * the 512 to-rule; IPv6 pods are always on the primary ENI (main table), so there is no from-rule.
 */
export function hostRouteLines(hostVeth: string, address: string, table: string, family: Family = "4"): StepLine[] {
  if (family === "6") {
    return [
      { step: "host-route", line: `route add ${address}/128 dev ${hostVeth}` },
      { step: "to-rule", line: `rule add to ${address}/128 lookup main priority ${TO_POD_RULE_PRIORITY}` },
    ];
  }
  const lines: StepLine[] = [
    { step: "host-route", line: `route add ${address}/32 dev ${hostVeth} scope link` },
    { step: "to-rule", line: `rule add to ${address}/32 lookup main priority ${TO_POD_RULE_PRIORITY}` },
  ];
  if (table !== "main") lines.push({ step: "from-rule", line: `rule add from ${address}/32 lookup ${table} priority ${FROM_POD_RULE_PRIORITY}` });
  return lines;
}

/**
 * Rules carry no device: one identical to a live pod's (the pod that has this address, or a
 * leftover of an earlier one) is refused with "File exists" and is not ours to remove on rollback.
 */
export function isRuleStep(step: PodNetworkStep | undefined): boolean {
  return step === "to-rule" || step === "from-rule";
}

/** The line that takes back a rule line of hostRouteLines. */
export function ruleDeletion(line: string): string {
  return line.replace(/^rule add /, "rule del ");
}

/**
 * What DEL runs on the host. Each rule twice: the second is normally refused (gone), and if it is
 * not, duplicates exist and the caller deletes them until none is left. The route goes only through
 * `hostVeth` when that is known.
 */
export function hostTeardownLines(address: string, table: string, hostVeth: string | undefined, family: Family = "4"): string[] {
  const len = hostLength(family);
  const toRule = `rule del to ${address}/${len} lookup main priority ${TO_POD_RULE_PRIORITY}`;
  const fromRule = `rule del from ${address}/${len} lookup ${table} priority ${FROM_POD_RULE_PRIORITY}`;
  const lines = [toRule, toRule];
  if (table !== "main") lines.push(fromRule, fromRule);
  lines.push(`route del ${address}/${len}${hostVeth === undefined ? "" : ` dev ${hostVeth}`} table main${family === "4" ? " scope link" : ""}`);
  return lines;
}

/** The device of the main-table route to `address`, for the error message only. */
export async function routeHolder(host: HostSide, address: string, family: Family = "4"): Promise<string | undefined> {
  try {
    const { stdout } = await run(host.runner.file, [...host.runner.args, "-j", `-${family}`, "route", "show", "table", "main", "exact", `${address}/${hostLength(family)}`]);
    return parseIpv4Routes(JSON.parse(stdout) as Array<Record<string, unknown>>)[0]?.dev;
  } catch {
    return undefined;
  }
}

export interface HostRouteState {
  /** `ip -j -4 route show table main` and `rule show` on the host. */
  routes: ReadonlyArray<Record<string, unknown>>;
  rules: ReadonlyArray<Record<string, unknown>>;
}

/** CHECK of the host side. */
export function hostRouteDrifts(state: HostRouteState, hostVeth: string, address: string, table: string, family: Family = "4"): PodDrift[] {
  const drifts: PodDrift[] = [];
  const drift = (item: PodDrift["item"], expected: string, found: string) => drifts.push({ item, expected, found });
  const v6 = family === "6";
  const len = hostLength(family);

  const hostRoutes = parseIpv4Routes(state.routes).filter((route) => route.dst === address);
  // IPv6 routes have no scope (ip prints none).
  if (!hostRoutes.some((route) => route.dev === hostVeth && route.gateway === undefined && (v6 || route.scope === "link"))) {
    drift("host-route", `${address} dev ${hostVeth}${v6 ? "" : " scope link"}`, hostRoutes.map(describeRoute).join(", ") || "missing");
  }

  // `ip -j rule` leaves out the prefix length of a full-length match (parseIpv4Rules reads that as 32).
  const full = (r: Record<string, unknown>) => (v6 && typeof r["dst"] === "string" && r["dst"] !== "all" && !("dstlen" in r) ? { ...r, dstlen: 128 } : r);
  const rules = parseIpv4Rules(state.rules.map(full));
  const toRules = rules.filter((rule) => rule.priority === TO_POD_RULE_PRIORITY && rule.dst === address && rule.dstlen === len);
  if (!toRules.some((rule) => rule.table === "main" && rule.src === undefined && !rule.not && rule.other.length === 0)) {
    drift("to-rule", `${TO_POD_RULE_PRIORITY}: to ${address} lookup main`, toRules.map((rule) => `lookup ${rule.table}`).join(", ") || "missing");
  }
  const fromRules = rules.filter((rule) => rule.priority === FROM_POD_RULE_PRIORITY && rule.src === address);
  if (table === "main") {
    if (fromRules.length > 0) drift("from-rule", "none (primary ENI)", fromRules.map((rule) => `${FROM_POD_RULE_PRIORITY}: from ${address} lookup ${rule.table}`).join(", "));
  } else if (!fromRules.some((rule) => rule.table === table && rule.dst === undefined && !rule.not && rule.other.length === 0)) {
    drift("from-rule", `${FROM_POD_RULE_PRIORITY}: from ${address} lookup ${table}`, fromRules.map((rule) => `lookup ${rule.table}`).join(", ") || "missing");
  }
  return drifts;
}
