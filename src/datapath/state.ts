// Reading the node's host networking back: for tests (compare with the reference's layout) and for
// `vpc-cni-agent status`. Both the structured form and the tools' own text are returned; the text
// is what an operator compares with `ip rule` on a real aws-node host.

import { inNetns, ip, type NetnsOption } from "./exec.ts";
import { listIpv4Routes, listIpv4Rules, type IpRoute, type IpRule } from "./ip.ts";
import { parseIptablesSave } from "./iptables.ts";
import { mangleOwnership, natOwnership } from "./snat-layout.ts";
import type { Ownership } from "./iptables-plan.ts";

export interface NodeNetworkState {
  rules: IpRule[];
  routes: IpRoute[];
  /** `ip -4 rule show`, one line each. */
  ruleLines: string[];
  /** `ip -4 route show table all`, one line each. */
  routeLines: string[];
  /**
   * Our part of iptables-save: per table (`*nat`, `*mangle`), our chain declarations and our rules
   * (in our chains, and ours inside built-in chains), in iptables-save order.
   */
  iptablesLines: string[];
}

const OWNERSHIP: Record<string, Ownership> = { nat: natOwnership, mangle: mangleOwnership };

/** Our rules and chains out of a full iptables-save text. */
export function filterOurIptables(saveText: string): string[] {
  const lines: string[] = [];
  for (const [table, saved] of parseIptablesSave(saveText)) {
    const ownership = OWNERSHIP[table];
    if (ownership === undefined) continue;
    const ours: string[] = [];
    for (const chain of saved.chains) if (ownership.ownsChain(chain)) ours.push(`:${chain}`);
    for (const rule of saved.rules) {
      if (ownership.ownsChain(rule.chain) || ownership.ownsRule(rule.chain, rule.spec)) ours.push(`-A ${rule.chain} ${rule.spec}`);
    }
    if (ours.length > 0) lines.push(`*${table}`, ...ours);
  }
  return lines;
}

const nonEmptyLines = (text: string) => text.split("\n").map((line) => line.trimEnd()).filter((line) => line !== "");

export async function readNodeNetworkState(target: NetnsOption = {}): Promise<NodeNetworkState> {
  const [rules, routes, ruleText, routeText, save] = await Promise.all([
    listIpv4Rules(target),
    listIpv4Routes(target),
    ip(target, ["-4", "rule", "show"]),
    ip(target, ["-4", "route", "show", "table", "all"]),
    inNetns(target, "iptables-save", []),
  ]);
  return {
    rules,
    routes,
    ruleLines: nonEmptyLines(ruleText.stdout),
    routeLines: nonEmptyLines(routeText.stdout),
    iptablesLines: filterOurIptables(save.stdout),
  };
}
