// The reference's worked examples (docs/eni-and-ip-target.md, docs/prefix-and-ip-target.md; its §8 table),
// on t3.small = 3 ENIs × 4 IPv4 addresses (3 secondary slots per ENI, 9 prefixes under PD).
//
// Each row starts from a fresh node (primary ENI only), lets the pool settle, starts the pods and lets it
// settle again, applying every plan the way EC2 would. Rows are run twice: with a pool tick after every pod
// (the reference's 5 s loop keeping up) and as a burst where the pool is only asked when an allocation finds
// nothing free. Where this policy differs from the reference on purpose (growth sized to the shortfall in one
// plan, cooling addresses not available, several ENIs freed at once), the end states of these rows are the
// same; only the number of steps to reach them is smaller.
// The PD rows run 58 pods, more than t3.small's secondary-IP max pods (11): the table assumes the PD
// max-pods value (110 is the recommended cap), so those rows use it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { SimNode, limitsOf, targetsWith } from "./simulated-node.test-support.ts";
import type { PoolTargets } from "./types.ts";

interface Row {
  settings: string;
  targets: Partial<PoolTargets>;
  pods: number;
  maxPods?: number;
  expect: { enis?: number; ips?: number; prefixes?: number };
}

const rows: Row[] = [
  { settings: "WARM_ENI=1", targets: {}, pods: 0, expect: { enis: 1, ips: 3 } },
  { settings: "WARM_ENI=1", targets: {}, pods: 5, expect: { enis: 3, ips: 9 } },
  {
    settings: "WARM_IP=2, MIN=5",
    targets: { warmIpTarget: 2, minimumIpTarget: 5 },
    pods: 0,
    expect: { enis: 2, ips: 5 },
  },
  { settings: "WARM_IP=2, MIN=5", targets: { warmIpTarget: 2, minimumIpTarget: 5 }, pods: 5, expect: { ips: 7 } },
  {
    settings: "PD, WARM_PREFIX=1",
    targets: { prefixDelegation: true, warmPrefixTarget: 1 },
    pods: 17,
    maxPods: 110,
    expect: { prefixes: 3 },
  },
  {
    settings: "PD, WARM_PREFIX=1",
    targets: { prefixDelegation: true, warmPrefixTarget: 1 },
    pods: 58,
    maxPods: 110,
    expect: { enis: 2, prefixes: 5 },
  },
  {
    settings: "PD, WARM_IP=1, MIN=1",
    targets: { prefixDelegation: true, warmIpTarget: 1, minimumIpTarget: 1 },
    pods: 58,
    maxPods: 110,
    expect: { prefixes: 4 },
  },
];

for (const row of rows) {
  for (const tick of [true, false]) {
    test(`worked example: ${row.settings}, ${row.pods} pods (${tick ? "tick per pod" : "burst"})`, () => {
      const limits = limitsOf("t3.small", row.maxPods === undefined ? {} : { maxPods: row.maxPods });
      const node = new SimNode(limits, targetsWith(row.targets));
      node.settle();
      node.startPods(row.pods, { tick });
      const summary = node.summary();
      assert.equal(node.podCount(), row.pods);
      if (row.expect.enis !== undefined) assert.equal(summary.enis, row.expect.enis, "ENIs");
      if (row.expect.ips !== undefined) assert.equal(summary.ips, row.expect.ips, "IPs");
      if (row.expect.prefixes !== undefined) assert.equal(summary.prefixes, row.expect.prefixes, "prefixes");
      // Only the active kind is ever allocated.
      assert.equal(row.targets.prefixDelegation ? summary.ips : summary.prefixes, 0);
    });
  }
}

test("worked example WARM_IP=2, MIN=5 at 0 pods is reached in one plan, not one ENI per tick", () => {
  const node = new SimNode(limitsOf("t3.small"), targetsWith({ warmIpTarget: 2, minimumIpTarget: 5 }));
  assert.equal(node.settle(), 1);
  const [plan] = node.plans;
  assert.deepEqual(plan?.assign, [{ eniId: "eni-primary", ipCount: 3 }]);
  assert.deepEqual(plan?.createEnis, [{ ipCount: 2 }]);
  assert.equal(plan?.short, 5);
});

test("worked example PD WARM_PREFIX=1 at 58 pods: 3 prefixes on the primary ENI, 2 on the second", () => {
  const node = new SimNode(limitsOf("t3.small", { maxPods: 110 }), targetsWith({ prefixDelegation: true, warmPrefixTarget: 1 }));
  node.settle();
  node.startPods(58);
  assert.deepEqual(
    node.summary().perEni.map((e) => [e.id, e.prefixes, e.pods]),
    [
      ["eni-primary", 3, 48],
      ["eni-1", 2, 10],
    ],
  );
});
