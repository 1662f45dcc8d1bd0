// `npm start -- --ipv6`, small: `vpcsim demo --ipv6 --nodes 2 --replicas 6 --profile instant --json`
// brings up an IPv6 cluster (dual-stack nodes, aws-node's DaemonSet in its IPv6 mode) and passes its
// checks: pod to pod with the pods' own IPv6 addresses, pod to node and to the internet over IPv4
// through egress-cni as the node's address; the pods' addresses come from the nodes' /80s, with no EC2
// call but the nodes' start-up ones; the run leaves nothing.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { datapathUnavailable, runCommand, VPCSIM } from "./harness.ts";

const skip = datapathUnavailable();
const RUN = "demo6test";

describe("vpcsim demo --ipv6", { skip }, () => {
  after(async () => {
    await runCommand(VPCSIM, ["down", "--run", RUN]);
  });

  test("an IPv6 cluster passes the demo's checks", { timeout: 300_000 }, async () => {
    const r = await runCommand(VPCSIM, ["demo", "--ipv6", "--run", RUN, "--nodes", "2", "--replicas", "6", "--profile", "instant", "--json", "--timeout", "120"], { timeoutMs: 280_000 });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      podsReady: number;
      nodes: { publicIp: string }[];
      checks: { kind: string; ok: boolean; expected: string; seen: string }[];
      pools: { enis: number; assigned: number; total: number }[];
      calls: Record<string, { total: number }>;
      failures: string[];
    };
    assert.deepEqual(report.failures, []);
    assert.equal(report.podsReady, 6);
    for (const c of report.checks) assert.equal(c.ok, true, JSON.stringify(c));
    const pods = report.checks.filter((c) => c.kind === "pod-to-pod");
    assert.equal(pods.length, 3);
    for (const c of pods) {
      assert.match(c.seen, /^[0-9a-f:]+$/, "an IPv6 pod address");
      assert.equal(c.seen, c.expected, "the receiver saw the sender's own address");
    }
    const internet = report.checks.filter((c) => c.kind === "pod-to-internet");
    for (const c of internet) assert.ok(report.nodes.some((n) => n.publicIp === c.seen), `${c.seen} is a node's public address`);
    assert.deepEqual(report.pools.map((p) => [p.enis, p.total]), [[1, 2 ** 48], [1, 2 ** 48]], "one ENI and one /80 per node");
    assert.equal(report.pools.reduce((n, p) => n + p.assigned, 0), 6);
    assert.equal(report.calls.AssignIpv6Addresses?.total, 2, "one /80 per node");
    assert.equal(report.calls.CreateNetworkInterface, undefined, "no ENI created");
    assert.equal(report.calls.AssignPrivateIpAddresses, undefined, "no IPv4 pool");
  });
});
