import { test } from "node:test";
import assert from "node:assert/strict";
import { coolingAddresses, isCidrReleasable, poolStats } from "./stats.ts";
import { NOW, eni, ips, prefixes } from "./snapshots.test-support.ts";
import { SECOND } from "./simulated-node.test-support.ts";

const COOLDOWN = 30 * SECOND;

test("cooling addresses are neither assigned nor available", () => {
  const snapshot = { enis: [eni("eni-0", 0, ips(0, 9, 4, 3, 1))] };
  assert.deepEqual(poolStats(snapshot, NOW, COOLDOWN, false), {
    total: 9,
    assigned: 4,
    cooldown: 3,
    available: 2,
    prefixes: 0,
    freePrefixes: 0,
    enis: 1,
  });
});

test("cooldown ends after IP_COOLDOWN_PERIOD, measured from each unassign", () => {
  const [cidr] = ips(0, 1, 0, 1);
  assert.ok(cidr);
  assert.equal(coolingAddresses(cidr, NOW, COOLDOWN), 1);
  assert.equal(coolingAddresses(cidr, NOW - SECOND + COOLDOWN - 1, COOLDOWN), 1);
  assert.equal(coolingAddresses(cidr, NOW - SECOND + COOLDOWN, COOLDOWN), 0);
  assert.equal(isCidrReleasable(cidr, NOW, COOLDOWN), false);
  assert.equal(isCidrReleasable(cidr, NOW + COOLDOWN, COOLDOWN), true);
  // A zero cooldown (IP_COOLDOWN_PERIOD=0) means nothing ever cools.
  assert.equal(coolingAddresses(cidr, NOW, 0), 0);
});

test("cooling never exceeds the free addresses of a CIDR, whatever the datastore reports", () => {
  const cidr = { cidr: "10.1.0.0/28", isPrefix: true, size: 16, assigned: 15, unassignedAt: [NOW, NOW, NOW] };
  assert.equal(coolingAddresses(cidr, NOW, COOLDOWN), 1);
});

test("only the active mode's CIDRs count, and excluded ENIs not at all", () => {
  const snapshot = {
    enis: [
      eni("eni-0", 0, [...ips(0, 2, 1), ...prefixes(0, [16, 3, 0, 0], [0, 2, 1, 0])]),
      eni("eni-1", 1, prefixes(1, [0, 0]), { excluded: true }),
    ],
  };
  assert.deepEqual(poolStats(snapshot, NOW, COOLDOWN, true), {
    total: 64,
    assigned: 19,
    cooldown: 3,
    available: 42,
    prefixes: 4,
    // The third prefix holds a cooling address, so it is not free to release.
    freePrefixes: 1,
    enis: 2,
  });
  assert.deepEqual(poolStats(snapshot, NOW, COOLDOWN, false), {
    total: 2,
    assigned: 1,
    cooldown: 0,
    available: 1,
    prefixes: 0,
    freePrefixes: 0,
    enis: 2,
  });
});
