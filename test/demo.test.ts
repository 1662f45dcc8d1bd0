// The README's main job, small: `vpcsim demo --nodes 2 --replicas 6 --profile instant --json --keep`
// brings up the cluster (aws-node as its DaemonSet's pod on both nodes), the Deployment, and
// passes its checks (each pod-to-pod answer names the sender's pod address, the internet sees the
// node's public address); the kept cluster answers `vpcsim kubectl`, `vpcsim apply -f -` and
// `vpcsim delete -f -`; `vpcsim down` leaves nothing.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { datapathUnavailable, runCommand, VPCSIM } from "./harness.ts";

const skip = datapathUnavailable();
const RUN = "demotest";

const POD = `apiVersion: v1
kind: Pod
metadata: {name: extra, namespace: demo}
spec:
  containers: [{name: c, image: registry.k8s.io/e2e-test-images/agnhost:2.53, args: [netexec]}]
`;

describe("vpcsim demo", { skip }, () => {
  after(async () => {
    await runCommand(VPCSIM, ["down", "--run", RUN]);
  });

  test("a small demo passes its checks, and the kept cluster takes apply, delete and kubectl", { timeout: 300_000 }, async () => {
    const r = await runCommand(VPCSIM, ["demo", "--run", RUN, "--nodes", "2", "--replicas", "6", "--profile", "instant", "--json", "--keep", "--timeout", "120"], { timeoutMs: 280_000 });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      rolledOut: boolean;
      podsReady: number;
      nodes: { name: string; zone: string; publicIp: string }[];
      checks: { kind: string; ok: boolean; expected: string; seen: string; fromNode: string; toNode: string }[];
      pools: { enis: number; assigned: number; error?: string }[];
      calls: Record<string, { total: number }>;
      failures: string[];
    };
    assert.equal(report.rolledOut, true);
    assert.equal(report.podsReady, 6);
    assert.deepEqual(report.failures, []);
    assert.deepEqual(new Set(report.nodes.map((n) => n.zone)), new Set(["us-east-1a", "us-east-1b"]));
    const pods = report.checks.filter((c) => c.kind === "pod-to-pod");
    assert.equal(pods.length, 3, "both directions across the zones, and one pair on one node");
    assert.ok(pods.some((c) => c.fromNode !== c.toNode));
    for (const c of report.checks) assert.equal(c.ok, true, JSON.stringify(c));
    for (const c of pods) assert.equal(c.seen, c.expected, "the receiver saw the sender's pod address");
    const internet = report.checks.filter((c) => c.kind === "pod-to-internet");
    assert.equal(internet.length, 2);
    for (const c of internet) assert.ok(report.nodes.some((n) => n.publicIp === c.seen), `${c.seen} is a node's public address`);
    assert.equal(report.pools.reduce((n, p) => n + p.assigned, 0), 6, "the agents account for the six pods");
    assert.ok(report.pools.every((p) => p.enis >= 1 && !p.error));
    assert.ok((report.calls.CreateNetworkInterface?.total ?? 0) >= 1, "ENIs were created");

    const applied = await runCommand(VPCSIM, ["apply", "--run", RUN, "-f", "-"], { input: POD });
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(applied.stdout.trim(), "pod/extra created");
    const nodes = await runCommand(VPCSIM, ["kubectl", "--run", RUN, "get", "nodes", "--no-headers"]);
    assert.equal(nodes.code, 0, nodes.stderr);
    assert.equal(nodes.stdout.trim().split("\n").filter((l) => /\sReady\s/.test(l)).length, 2);
    const deleted = await runCommand(VPCSIM, ["delete", "--run", RUN, "-f", "-"], { input: POD });
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout.trim(), 'pod "extra" deleted');
    const down = await runCommand(VPCSIM, ["down", "--run", RUN]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(existsSync(`/run/vpcsim/${RUN}`), false);
  });
});
