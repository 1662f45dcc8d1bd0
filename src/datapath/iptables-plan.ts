// Turning "what our iptables state should be" into the smallest iptables-restore script that gets
// there from what iptables-save shows. Pure (no commands), so it is unit-tested without root.
//
// Ownership: we own whole chains (by name prefix) and single rules in other chains (recognised by
// our comments or by a jump into one of our chains). Everything else is never touched.

import type { SavedTable } from "./iptables.ts";

export interface TableLayout {
  /** Chains we own, with their complete contents, in order. */
  ownedChains: Map<string, string[]>;
  /** For each foreign chain (PREROUTING, POSTROUTING), our rules in it, in order (appended). */
  rulesInChains: Map<string, string[]>;
}

export interface Ownership {
  /** Does this chain belong to us (its whole content, and its existence)? */
  ownsChain(chain: string): boolean;
  /** Is this rule, found in a chain we do not own, one of ours? */
  ownsRule(chain: string, spec: string): boolean;
}

/**
 * The restore script (empty when nothing differs) that makes `table` match `layout`:
 * - an owned chain whose contents differ is redeclared (`:CHAIN`, which creates it or, with
 *   --noflush, flushes it) and rewritten;
 * - our rules in a foreign chain are left alone when they already read as desired and in order;
 *   otherwise all of them (stale ones, duplicates) are deleted and the desired ones appended;
 * - owned chains not in the layout (e.g. AWS-SNAT-CHAIN-1..N of old aws-node) are flushed and
 *   deleted, after every reference to them is gone.
 */
export function planTable(tableName: string, current: SavedTable, layout: TableLayout, ownership: Ownership): string {
  const declare: string[] = [];
  const fill: string[] = [];
  const removeOurs: string[] = [];
  const appendOurs: string[] = [];
  const flushStale: string[] = [];
  const dropStale: string[] = [];

  const currentRules = (chain: string) => current.rules.filter((rule) => rule.chain === chain).map((rule) => rule.spec);

  for (const [chain, specs] of layout.ownedChains) {
    if (current.chains.includes(chain) && sameList(currentRules(chain), specs)) continue;
    declare.push(`:${chain} - [0:0]`);
    for (const spec of specs) fill.push(`-A ${chain} ${spec}`);
  }

  const foreignChains = new Set<string>(layout.rulesInChains.keys());
  for (const rule of current.rules) if (!ownership.ownsChain(rule.chain)) foreignChains.add(rule.chain);
  for (const chain of foreignChains) {
    const ours = currentRules(chain).filter((spec) => ownership.ownsRule(chain, spec));
    const desired = layout.rulesInChains.get(chain) ?? [];
    if (sameList(ours, desired)) continue;
    for (const spec of ours) removeOurs.push(`-D ${chain} ${spec}`);
    for (const spec of desired) appendOurs.push(`-A ${chain} ${spec}`);
  }

  for (const chain of current.chains) {
    if (!ownership.ownsChain(chain) || layout.ownedChains.has(chain)) continue;
    flushStale.push(`-F ${chain}`);
    dropStale.push(`-X ${chain}`);
  }

  const body = [...declare, ...removeOurs, ...flushStale, ...fill, ...appendOurs, ...dropStale];
  if (body.length === 0) return "";
  return [`*${tableName}`, ...body, "COMMIT", ""].join("\n");
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}
