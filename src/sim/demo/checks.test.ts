// The demo's check logic decides from the answers: a receiver that saw another source, a failed
// request, an internet answer that is not the node's public address all fail; pairs cover every
// ordered pair of nodes and one same-node pair.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { podToInternet, podToNode, podToPod, runChecks, samplePairs, type DemoNode, type DemoPod } from "./checks.ts";
import type { Prober } from "./probes.ts";
import { formatChecks } from "./report.ts";

const nodes: DemoNode[] = [
  { name: "n1", instance: "node-1", zone: "us-east-1a", ip: "10.0.0.10", publicIp: "198.51.100.1", netns: "ns-n1" },
  { name: "n2", instance: "node-2", zone: "us-east-1b", ip: "10.0.16.10", publicIp: "198.51.100.2", netns: "ns-n2" },
  { name: "n3", instance: "node-3", zone: "us-east-1a", ip: "10.0.0.20", publicIp: null, netns: "ns-n3" },
];
const pod = (name: string, ip: string, node: string): DemoPod => ({ name, ip, node, zone: "", netns: `ns-${name}` });
const pods = [pod("a", "10.0.1.1", "n1"), pod("b", "10.0.1.2", "n1"), pod("c", "10.0.17.1", "n2"), pod("d", "10.0.2.1", "n3")];

/** A fake network: /clientip answers the source `nat` maps the sender to; the external host the given address. */
function network(options: { nat?: Record<string, string>; down?: string[]; external?: string } = {}): Prober {
  return async (netns, url) => {
    const sender = pods.find((p) => p.netns === netns)!;
    if (options.down?.some((d) => url.includes(d))) return { ok: false, body: "", error: "wget: can't connect to remote host: Connection timed out" };
    if (url.endsWith("/clientip")) return { ok: true, body: `${options.nat?.[sender.ip] ?? sender.ip}:40000` };
    if (url.includes(":61678/")) return { ok: true, body: "# HELP awscni_assigned_ip_addresses ...\n" };
    const node = nodes.find((n) => n.name === sender.node)!;
    return { ok: true, body: `${options.external ?? node.publicIp ?? "10.9.9.9"}\n` };
  };
}

describe("demo checks", () => {
  test("pairs: every ordered pair of nodes with pods, and one same-node pair", () => {
    const pairs = samplePairs(pods, nodes).map(([a, b]) => `${a.node}->${b.node}`);
    assert.deepEqual(pairs.sort(), ["n1->n1", "n1->n2", "n1->n3", "n2->n1", "n2->n3", "n3->n1", "n3->n2"]);
  });

  test("pod to pod passes only when the receiver saw the sender's pod address", async () => {
    assert.equal((await podToPod(network(), pods[0]!, pods[2]!)).ok, true);
    const natted = await podToPod(network({ nat: { "10.0.1.1": "10.0.0.10" } }), pods[0]!, pods[2]!);
    assert.equal(natted.ok, false);
    assert.equal(natted.seen, "10.0.0.10");
    assert.match(natted.why, /saw 10\.0\.0\.10, not the sender's pod address 10\.0\.1\.1/);
    const lost = await podToPod(network({ down: ["10.0.17.1"] }), pods[0]!, pods[2]!);
    assert.equal(lost.ok, false);
    assert.match(lost.why, /timed out/);
  });

  test("pod to internet must show the node's public address; pod to node the agent's metrics", async () => {
    assert.equal((await podToInternet(network(), pods[2]!, nodes[1]!)).ok, true);
    const wrong = await podToInternet(network({ external: "10.0.17.1" }), pods[2]!, nodes[1]!);
    assert.equal(wrong.ok, false);
    assert.equal((await podToInternet(network(), pods[3]!, nodes[2]!)).ok, false, "a node without a public address cannot pass");
    assert.equal((await podToNode(network(), pods[0]!, nodes[1]!)).ok, true);
    assert.equal((await podToNode(network({ down: [":61678"] }), pods[0]!, nodes[1]!)).ok, false);
  });

  test("runChecks reports every failure, and the report says FAILED", async () => {
    const checks = await runChecks(network({ down: ["10.0.17.1"] }), pods, nodes);
    assert.equal(checks.length, 7 + 3 * 2);
    const failed = checks.filter((c) => !c.ok);
    assert.ok(failed.some((c) => c.kind === "pod-to-pod" && c.to === "c"));
    assert.ok(failed.some((c) => c.kind === "pod-to-internet" && c.fromNode === "n3"));
    const text = formatChecks(checks, (n) => n);
    assert.match(text, /FAILED/);
    assert.match(text, /OK +10\.0\.1\.1 = sender's pod IP/);
  });
});
