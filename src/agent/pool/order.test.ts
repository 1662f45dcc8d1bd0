import { test } from "node:test";
import assert from "node:assert/strict";
import { cidrBase, cidrFillOrder, eniFillOrder, freeOrder, growthOrder, releaseOrder } from "./order.ts";
import { eni, ips, prefixes } from "./snapshots.test-support.ts";

const enis = [
  eni("eni-c", 3, ips(3, 4, 2)),
  eni("eni-p", 0, ips(0, 9, 2)),
  eni("eni-a", 1, ips(1, 5, 5)),
  eni("eni-x", 4, ips(4, 9, 9), { excluded: true }),
  eni("eni-t", 2, [], { trunk: true }),
];

test("eniFillOrder: fullest first, ties to the lower device number, excluded ENIs left out", () => {
  assert.deepEqual(
    eniFillOrder(enis).map((e) => e.id),
    ["eni-a", "eni-p", "eni-c", "eni-t"],
  );
});

test("the orders do not depend on the order the ENIs are listed in", () => {
  const reversed = [...enis].reverse();
  assert.deepEqual(eniFillOrder(reversed), eniFillOrder(enis));
  assert.deepEqual(growthOrder(reversed), growthOrder(enis));
  assert.deepEqual(releaseOrder(reversed), releaseOrder(enis));
  assert.deepEqual(freeOrder(reversed), freeOrder(enis));
});

test("growth goes to the fullest ENI that can take addresses (never trunk or excluded)", () => {
  assert.deepEqual(
    growthOrder(enis).map((e) => e.id),
    ["eni-a", "eni-p", "eni-c"],
  );
});

test("release takes from the emptiest ENIs first, ties to the most recently attached", () => {
  assert.deepEqual(
    releaseOrder(enis).map((e) => e.id),
    ["eni-t", "eni-c", "eni-p", "eni-a", "eni-x"],
  );
});

test("free order: fewest addresses first, then the highest device number", () => {
  const idle = [eni("eni-1", 1, ips(1, 3)), eni("eni-2", 2, ips(2, 1)), eni("eni-3", 3, ips(3, 3))];
  assert.deepEqual(
    freeOrder(idle).map((e) => e.id),
    ["eni-2", "eni-3", "eni-1"],
  );
});

test("cidrFillOrder packs the fullest prefix first, then by address", () => {
  const cidrs = [
    ...prefixes(0, [0, 5, 16, 5]),
    { cidr: "10.0.0.32/28", isPrefix: true, size: 16, assigned: 0, unassignedAt: [] },
  ];
  assert.deepEqual(
    cidrFillOrder(cidrs).map((c) => `${c.cidr}:${c.assigned}`),
    ["10.0.0.32/28:16", "10.0.0.16/28:5", "10.0.0.48/28:5", "10.0.0.0/28:0", "10.0.0.32/28:0"],
  );
});

test("cidrBase compares addresses numerically, not as text", () => {
  assert.ok(cidrBase("10.0.0.9/32") < cidrBase("10.0.0.10/32"));
  assert.ok(cidrBase("9.255.255.255/32") < cidrBase("10.0.0.0/32"));
  assert.equal(cidrBase("garbage"), Number.MAX_SAFE_INTEGER);
});
