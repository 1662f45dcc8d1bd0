// The demo's checks, each a real request whose answer decides it: pod to pod across nodes and
// zones (netexec's /clientip on the receiver must name the sender's pod address: no NAT between
// pods), pod to another node (the agent's metrics port on that node's address), and pod to the
// internet (the external host 203.0.113.10 must see the node's public address: the pod's traffic
// SNATed to the node, then mapped 1:1 by the internet gateway).

import type { Prober } from "./probes.ts";

export const EXTERNAL_HOST = "203.0.113.10";
export const NETEXEC_PORT = 8080;
export const AGENT_METRICS_PORT = 61678;

export interface DemoPod {
  name: string;
  ip: string;
  node: string;
  zone: string;
  netns: string;
}

export interface DemoNode {
  name: string;
  instance: string;
  zone: string;
  ip: string;
  publicIp: string | null;
  netns: string;
}

export interface Check {
  kind: "pod-to-pod" | "pod-to-node" | "pod-to-internet";
  from: string;
  fromNode: string;
  to: string;
  toNode: string;
  expected: string;
  /** What the receiver saw as the source (or answered), when it answered. */
  seen: string;
  ok: boolean;
  why: string;
}

/** Pairs to test: for every ordered pair of distinct nodes one pod on each (cross-node, cross-zone when zones differ), and one pair on the same node. */
export function samplePairs(pods: DemoPod[], nodes: DemoNode[]): [DemoPod, DemoPod][] {
  const byNode = new Map<string, DemoPod[]>();
  for (const p of pods) byNode.set(p.node, [...(byNode.get(p.node) ?? []), p]);
  const pairs: [DemoPod, DemoPod][] = [];
  let turn = 0;
  for (const a of nodes) {
    for (const b of nodes) {
      if (a === b) continue;
      const from = byNode.get(a.name) ?? [];
      const to = byNode.get(b.name) ?? [];
      if (from.length === 0 || to.length === 0) continue;
      pairs.push([from[turn % from.length]!, to[(turn + 1) % to.length]!]);
      turn++;
    }
  }
  const crowded = nodes.map((n) => byNode.get(n.name) ?? []).find((l) => l.length >= 2);
  if (crowded) pairs.push([crowded[0]!, crowded[1]!]);
  return pairs;
}

function hostOf(peer: string): string {
  const m = /^\[?([^\]]+?)\]?:\d+$/.exec(peer.trim());
  return m ? m[1]! : peer.trim();
}

export async function podToPod(probe: Prober, from: DemoPod, to: DemoPod): Promise<Check> {
  // An IPv6 pod's address goes in brackets in the URL.
  const r = await probe(from.netns, `http://${to.ip.includes(":") ? `[${to.ip}]` : to.ip}:${NETEXEC_PORT}/clientip`);
  const seen = r.ok ? hostOf(r.body) : "";
  const ok = r.ok && seen === from.ip;
  return { kind: "pod-to-pod", from: from.name, fromNode: from.node, to: to.name, toNode: to.node, expected: from.ip, seen, ok, why: !r.ok ? (r.error ?? "failed") : ok ? "" : `the receiver saw ${seen}, not the sender's pod address ${from.ip}` };
}

export async function podToNode(probe: Prober, from: DemoPod, node: DemoNode): Promise<Check> {
  const r = await probe(from.netns, `http://${node.ip}:${AGENT_METRICS_PORT}/metrics`);
  const ok = r.ok && r.body.includes("awscni_");
  return { kind: "pod-to-node", from: from.name, fromNode: from.node, to: node.ip, toNode: node.name, expected: "the agent's metrics", seen: r.ok ? (ok ? "awscni_* metrics" : "an answer without awscni_ metrics") : "", ok, why: !r.ok ? (r.error ?? "failed") : ok ? "" : "the answer had no awscni_ metrics" };
}

export async function podToInternet(probe: Prober, from: DemoPod, node: DemoNode): Promise<Check> {
  const expected = node.publicIp ?? "(the node has no public address)";
  const r = await probe(from.netns, `http://${EXTERNAL_HOST}/`);
  const seen = r.ok ? r.body.trim() : "";
  const ok = r.ok && node.publicIp !== null && seen === node.publicIp;
  return { kind: "pod-to-internet", from: from.name, fromNode: from.node, to: EXTERNAL_HOST, toNode: "", expected, seen, ok, why: !r.ok ? (r.error ?? "failed") : ok ? "" : `the external host saw ${seen || "nothing"}, not the node's public address ${expected}` };
}

/** Every check of the demo, run a few at a time. */
export async function runChecks(probe: Prober, pods: DemoPod[], nodes: DemoNode[]): Promise<Check[]> {
  const tasks: (() => Promise<Check>)[] = [];
  for (const [a, b] of samplePairs(pods, nodes)) tasks.push(() => podToPod(probe, a, b));
  for (const [i, node] of nodes.entries()) {
    const from = pods.find((p) => p.node === node.name);
    if (!from) continue;
    const other = nodes[(i + 1) % nodes.length]!;
    tasks.push(() => podToNode(probe, from, other));
    tasks.push(() => podToInternet(probe, from, node));
  }
  const results: Check[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(4, tasks.length) }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}
