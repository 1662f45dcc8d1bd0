// The demo's results as text: the connectivity matrix (OK or FAILED, and the source address each
// receiver saw), the other checks, each node's pool from its agent's introspection, and the EC2
// calls by action from vpcsim's call log.

import type { Check } from "./checks.ts";

export interface PoolView {
  node: string;
  zone: string;
  enis: number;
  total: number;
  assigned: number;
  available: number;
  cooldown: number;
  error?: string;
}

export interface CallCounts {
  [action: string]: { total: number; ok: number; errors: Record<string, number> };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => (c ?? "").padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}

/** `label` names a node as the reader knows it (its instance and zone). */
export function formatChecks(checks: Check[], label: (node: string) => string): string {
  const pods = checks.filter((c) => c.kind === "pod-to-pod");
  const other = checks.filter((c) => c.kind !== "pod-to-pod");
  const out = [
    "Pod to pod (netexec /clientip: the receiver must see the sender's pod address)",
    table([["FROM POD", "ON", "TO POD", "ON", "RESULT", "SOURCE SEEN"], ...pods.map((c) => [c.from, label(c.fromNode), c.to, label(c.toNode), c.ok ? "OK" : "FAILED", c.ok ? `${c.seen} = sender's pod IP` : c.why])]),
    "",
    "Pod to node and to the internet",
    table([
      ["FROM POD", "ON", "TO", "RESULT", "SEEN"],
      ...other.map((c) => [c.from, label(c.fromNode), c.kind === "pod-to-node" ? `${label(c.toNode)} ${c.to}:61678` : `${c.to} (internet)`, c.ok ? "OK" : "FAILED", c.ok ? (c.kind === "pod-to-internet" ? `${c.seen} = the node's public IP (SNAT)` : c.seen) : c.seen ? `${c.seen}: ${c.why}` : c.why]),
    ]),
  ];
  return out.join("\n");
}

export function formatPools(pools: PoolView[]): string {
  return table([["NODE", "ZONE", "ENIS", "ADDRESSES", "USED", "WARM", "COOLDOWN"], ...pools.map((p) => (p.error ? [p.node, p.zone, "-", "-", "-", "-", p.error] : [p.node, p.zone, String(p.enis), String(p.total), String(p.assigned), String(p.available), String(p.cooldown)]))]);
}

export function formatCalls(counts: CallCounts): string {
  const rows = Object.entries(counts).sort((a, b) => b[1].total - a[1].total);
  const total = rows.reduce((n, [, c]) => n + c.total, 0);
  return table([["ACTION", "CALLS", "ERRORS"], ...rows.map(([a, c]) => [a, String(c.total), Object.entries(c.errors).map(([k, v]) => `${k}=${v}`).join(" ") || "-"]), ["total", String(total), ""]]);
}
