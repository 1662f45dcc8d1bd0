// `npm start -- --custom-networking`, small: `vpcsim demo --custom-networking --nodes 2 --replicas 6
// --profile instant --json` brings up a cluster whose pods use custom networking by tags (100.64.0.0/16,
// a tagged subnet per zone, aws-node with AWS_VPC_K8S_CNI_CUSTOM_NETWORK_BY_TAGS) and passes its
// checks: pods' addresses from their zone's pod subnet, pod to pod with their own addresses, the
// internet as the node's public address; the primary ENI gives pods nothing; the run leaves nothing.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { datapathUnavailable, runCommand, VPCSIM } from "./harness.ts";

const skip = datapathUnavailable();
const RUN = "democntest";

describe("vpcsim demo --custom-networking", { skip }, () => {
  after(async () => {
    await runCommand(VPCSIM, ["down", "--run", RUN]);
  });

  test("pods in the secondary CIDR pass the demo's checks", { timeout: 300_000 }, async () => {
    const r = await runCommand(VPCSIM, ["demo", "--custom-networking", "--run", RUN, "--nodes", "2", "--replicas", "6", "--profile", "instant", "--json", "--timeout", "120"], { timeoutMs: 280_000 });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      podsReady: number;
      nodes: { publicIp: string; zone: string }[];
      checks: { kind: string; ok: boolean; expected: string; seen: string }[];
      pools: { zone: string; enis: number; assigned: number }[];
      failures: string[];
    };
    assert.deepEqual(report.failures, []);
    assert.equal(report.podsReady, 6);
    for (const c of report.checks) assert.equal(c.ok, true, JSON.stringify(c));
    const pods = report.checks.filter((c) => c.kind === "pod-to-pod");
    assert.ok(pods.length > 0);
    for (const c of pods) {
      assert.match(c.seen, /^100\.64\.(\d+)\.\d+$/, "a pod address in the pod CIDR");
      assert.equal(c.seen, c.expected, "the receiver saw the sender's own address");
    }
    for (const c of report.checks.filter((x) => x.kind === "pod-to-internet")) assert.ok(report.nodes.some((n) => n.publicIp === c.seen), `${c.seen} is a node's public address`);
    assert.match(r.stderr, /custom networking: all 6 pods' addresses are in 100\.64\.0\.0\/16/);
    for (const p of report.pools) assert.ok(p.enis >= 2, "the primary ENI (no pods) and at least one ENI in the pod subnet");
  });
});
