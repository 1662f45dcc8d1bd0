// Exact plans on hand-built snapshots. Where these differ from the reference on purpose:
// - cooling addresses are not available: the pool grows during a delete/create churn instead of failing
//   ADDs, and never releases (or frees an ENI holding) an address inside IP_COOLDOWN_PERIOD;
// - growth covers the whole shortfall in one plan (several ENIs if needed) instead of one ENI per 5 s tick;
// - every ENI no longer needed is freed in one plan instead of one per tick;
// - the fullest ENI is grown, the emptiest idle ENIs are freed and CIDRs are released from the emptiest
//   ENIs, instead of Go map order;
// - WARM_ENI's whole-ENI fills stop at max pods instead of overshooting by up to one ENI.

import { test } from "node:test";
import assert from "node:assert/strict";
import { planPool } from "./plan.ts";
import { limitsOf, targetsWith, MINUTE, SECOND } from "./simulated-node.test-support.ts";
import { NOW, eni, ips, prefixes } from "./snapshots.test-support.ts";
import type { EniSnapshot, PoolPlan } from "./types.ts";

function actions(plan: PoolPlan): Pick<PoolPlan, "assign" | "createEnis" | "release" | "freeEnis"> {
  return { assign: plan.assign, createEnis: plan.createEnis, release: plan.release, freeEnis: plan.freeEnis };
}

const none = { assign: [], createEnis: [], release: [], freeEnis: [] };
const snap = (...enis: EniSnapshot[]) => ({ enis });

test("WARM_ENI=1 on a fresh m5.large fills the primary ENI", () => {
  const plan = planPool(snap(eni("eni-0", 0, [])), targetsWith(), limitsOf("m5.large"), NOW);
  assert.equal(plan.mode, "warm-eni");
  assert.equal(plan.short, 9);
  assert.deepEqual(actions(plan), { ...none, assign: [{ eniId: "eni-0", ipCount: 9 }] });
  assert.match(plan.reason, /^short 9 addresses .*WARM_ENI_TARGET=1.*: assign 9 IPs to eni-0$/);
});

test("WARM_ENI=1 with 5 pods on a full primary ENI creates one full ENI (the reference's unit)", () => {
  const plan = planPool(snap(eni("eni-0", 0, ips(0, 9, 5))), targetsWith(), limitsOf("m5.large"), NOW);
  assert.equal(plan.short, 5);
  assert.deepEqual(actions(plan), { ...none, createEnis: [{ ipCount: 9 }] });
});

test("WARM_ENI=2 short by two ENIs' worth creates both in one plan", () => {
  const plan = planPool(snap(eni("eni-0", 0, ips(0, 9, 9))), targetsWith({ warmEniTarget: 2 }), limitsOf("m5.large"), NOW);
  assert.deepEqual(actions(plan), { ...none, createEnis: [{ ipCount: 9 }, { ipCount: 9 }] });
});

test("WARM_ENI=0 grows only when nothing is available, then by a whole ENI", () => {
  const targets = targetsWith({ warmEniTarget: 0 });
  assert.deepEqual(actions(planPool(snap(eni("eni-0", 0, ips(0, 3, 2))), targets, limitsOf("m5.large"), NOW)), none);
  const plan = planPool(snap(eni("eni-0", 0, ips(0, 3, 3))), targets, limitsOf("m5.large"), NOW);
  assert.deepEqual(actions(plan), { ...none, assign: [{ eniId: "eni-0", ipCount: 6 }] });
});

test("WARM_IP=N asks for exactly the shortfall", () => {
  const plan = planPool(snap(eni("eni-0", 0, ips(0, 4, 3))), targetsWith({ warmIpTarget: 5 }), limitsOf("t3.medium"), NOW);
  assert.equal(plan.mode, "warm-ip");
  assert.equal(plan.short, 4);
  // t3.medium has 5 slots per ENI: one left on the primary, three on a new ENI.
  assert.deepEqual(actions(plan), { ...none, assign: [{ eniId: "eni-0", ipCount: 1 }], createEnis: [{ ipCount: 3 }] });
});

test("WARM_IP + MINIMUM_IP on c5.18xlarge: the whole floor in one plan, several ENIs", () => {
  const plan = planPool(
    snap(eni("eni-0", 0, [])),
    targetsWith({ warmIpTarget: 10, minimumIpTarget: 200 }),
    limitsOf("c5.18xlarge"),
    NOW,
  );
  assert.equal(plan.short, 200);
  assert.deepEqual(actions(plan), {
    ...none,
    assign: [{ eniId: "eni-0", ipCount: 49 }],
    createEnis: [{ ipCount: 49 }, { ipCount: 49 }, { ipCount: 49 }, { ipCount: 4 }],
  });
  assert.equal(plan.unmet, 0);
});

test("MAX_ENI caps growth and the plan says what is still missing", () => {
  const plan = planPool(
    snap(eni("eni-0", 0, [])),
    targetsWith({ minimumIpTarget: 200, maxEni: 3 }),
    limitsOf("c5.18xlarge"),
    NOW,
  );
  assert.deepEqual(actions(plan), {
    ...none,
    assign: [{ eniId: "eni-0", ipCount: 49 }],
    createEnis: [{ ipCount: 49 }, { ipCount: 49 }],
  });
  assert.equal(plan.unmet, 53);
  assert.match(plan.reason, /at the ENI limit, 53 short after this/);
});

test("MAX_ENI above the instance limit is the instance limit; MAX_ENI < 1 is ignored", () => {
  for (const maxEni of [-1, 0, 99]) {
    const plan = planPool(snap(eni("eni-0", 0, ips(0, 5, 5))), targetsWith({ warmIpTarget: 20, maxEni }), limitsOf("t3.medium"), NOW);
    assert.deepEqual(actions(plan), { ...none, createEnis: [{ ipCount: 5 }, { ipCount: 5 }] }, `MAX_ENI=${maxEni}`);
    // Max pods (17) caps the shortfall at 12; the ENI limit leaves 2 of those unmet.
    assert.equal(plan.short, 12);
    assert.equal(plan.unmet, 2);
  }
});

test("unmanaged ENIs and the trunk reserve take ENI slots", () => {
  const targets = targetsWith({ warmIpTarget: 20 });
  const full = snap(eni("eni-0", 0, ips(0, 9, 9)));
  // m5.large: 3 slots; 1 unmanaged leaves room for one more ENI.
  assert.deepEqual(actions(planPool(full, targets, limitsOf("m5.large", { unmanagedEnis: 1 }), NOW)), {
    ...none,
    createEnis: [{ ipCount: 9 }],
  });
  // Plus a reserve for the trunk ENI: no room at all.
  const reserved = limitsOf("m5.large", { unmanagedEnis: 1, reserveTrunkSlot: true });
  assert.deepEqual(actions(planPool(full, targets, reserved, NOW)), none);
  // Once the trunk exists the reserve is spent: the trunk takes its slot, but gets no addresses.
  const withTrunk = snap(eni("eni-0", 0, ips(0, 9, 9)), eni("eni-t", 1, [], { trunk: true }));
  assert.deepEqual(actions(planPool(withTrunk, targets, limitsOf("m5.large", { reserveTrunkSlot: true }), NOW)), {
    ...none,
    createEnis: [{ ipCount: 9 }],
  });
});

test("max pods caps growth; WARM_ENI's whole-ENI fill stops there", () => {
  // c5.18xlarge with kubelet's 110: 98 addresses, 95 pods, WARM_ENI=1 wants 49 available.
  const enis = snap(eni("eni-0", 0, ips(0, 49, 49)), eni("eni-1", 1, ips(1, 49, 46)));
  const plan = planPool(enis, targetsWith(), limitsOf("c5.18xlarge", { maxPods: 110 }), NOW);
  assert.equal(plan.short, 12);
  assert.deepEqual(actions(plan), { ...none, createEnis: [{ ipCount: 12 }] });
  // At max pods nothing grows, even though the warm target is not met.
  const atCap = snap(eni("eni-0", 0, ips(0, 49, 49)), eni("eni-1", 1, ips(1, 49, 49)), eni("eni-2", 2, ips(2, 12, 5)));
  const capped = planPool(atCap, targetsWith(), limitsOf("c5.18xlarge", { maxPods: 110 }), NOW);
  assert.equal(capped.short, 0);
  assert.deepEqual(actions(capped), none);
  assert.match(capped.reason, /^at target \(at max pods\)/);
});

test("at max pods, cooling addresses stop warm growth but not a waiting pod's allocation", () => {
  // t3.medium with max pods lowered to 10: 10 addresses, 9 pods, 1 just deleted; WARM_IP=1.
  const enis = snap(eni("eni-0", 0, ips(0, 5, 5)), eni("eni-1", 1, ips(1, 5, 4, 1)));
  const limits = limitsOf("t3.medium", { maxPods: 10 });
  const idle = planPool(enis, targetsWith({ warmIpTarget: 1 }), limits, NOW);
  assert.equal(idle.stats.available, 0);
  assert.equal(idle.short, 0);
  assert.deepEqual(actions(idle), none);
  // The replacement pod's ADD finds nothing: one address for it, none for the warm target.
  const replacing = planPool({ ...enis, waiting: 1 }, targetsWith({ warmIpTarget: 1 }), limits, NOW);
  assert.equal(replacing.short, 1);
  assert.deepEqual(actions(replacing), { ...none, createEnis: [{ ipCount: 1 }] });
  // A pod past max pods gets nothing.
  const full = snap(eni("eni-0", 0, ips(0, 5, 5)), eni("eni-1", 1, ips(1, 5, 5)));
  assert.deepEqual(actions(planPool({ ...full, waiting: 1 }, targetsWith({ warmIpTarget: 1 }), limits, NOW)), none);
});

test("waiting allocations are covered in the same plan as the warm target", () => {
  // c5.18xlarge WARM_IP=5, 3 available, 120 ADDs waiting: 122 + 5 addresses in one plan.
  const enis = snap(eni("eni-0", 0, ips(0, 10, 7)));
  const plan = planPool({ ...enis, waiting: 120 }, targetsWith({ warmIpTarget: 5 }), limitsOf("c5.18xlarge"), NOW);
  assert.equal(plan.short, 122);
  assert.deepEqual(actions(plan), {
    ...none,
    assign: [{ eniId: "eni-0", ipCount: 39 }],
    createEnis: [{ ipCount: 49 }, { ipCount: 34 }],
  });
  assert.match(plan.reason, /waiting 120/);
  // Nothing is ever released while allocations wait.
  const over = snap(eni("eni-0", 0, ips(0, 49, 49)), eni("eni-1", 1, ips(1, 49)));
  assert.deepEqual(actions(planPool({ ...over, waiting: 1 }, targetsWith({ warmIpTarget: 5 }), limitsOf("c5.18xlarge", { maxPods: 49 }), NOW)), none);
});

test("cooling addresses are not available: a churn grows the pool instead of failing ADDs", () => {
  // WARM_IP=2: 6 addresses, 4 pods of which 2 just replaced; their old addresses are cooling.
  const enis = snap(eni("eni-0", 0, ips(0, 6, 4, 2)));
  const plan = planPool(enis, targetsWith({ warmIpTarget: 2 }), limitsOf("m5.large"), NOW);
  assert.deepEqual(plan.stats, { total: 6, assigned: 4, cooldown: 2, available: 0, prefixes: 0, freePrefixes: 0, enis: 1 });
  assert.deepEqual(actions(plan), { ...none, assign: [{ eniId: "eni-0", ipCount: 2 }] });
});

test("decrease never returns cooling addresses; after the cooldown it does", () => {
  // WARM_IP=3: 9 addresses, 3 pods, 3 just deleted.
  const enis = snap(eni("eni-0", 0, ips(0, 9, 3, 3)));
  const targets = targetsWith({ warmIpTarget: 3 });
  const during = planPool(enis, targets, limitsOf("m5.large"), NOW);
  assert.equal(during.over, 0);
  assert.deepEqual(actions(during), none);
  const after = planPool(enis, targets, limitsOf("m5.large"), NOW + 30 * SECOND);
  assert.equal(after.over, 3);
  assert.deepEqual(actions(after), {
    ...none,
    release: [{ eniId: "eni-0", prefixes: false, cidrs: ["10.0.0.13/32", "10.0.0.14/32", "10.0.0.15/32"] }],
  });
});

test("MINIMUM_IP_TARGET holds the floor when shrinking", () => {
  const enis = snap(eni("eni-0", 0, ips(0, 9, 1)));
  const plan = planPool(enis, targetsWith({ warmIpTarget: 1, minimumIpTarget: 6 }), limitsOf("m5.large"), NOW);
  assert.equal(plan.over, 3);
  assert.deepEqual(plan.release.map((r) => r.cidrs.length), [3]);
});

test("fragmentation: idle ENIs are freed (fewest addresses first), then CIDRs leave the emptiest ENI", () => {
  const enis = snap(
    eni("eni-0", 0, ips(0, 9, 3)),
    eni("eni-1", 1, ips(1, 9, 1)),
    eni("eni-2", 2, ips(2, 9)),
    eni("eni-3", 3, ips(3, 4)),
  );
  const plan = planPool(enis, targetsWith({ warmIpTarget: 5 }), limitsOf("m5.large"), NOW);
  assert.equal(plan.over, 22);
  assert.deepEqual(actions(plan), {
    ...none,
    freeEnis: ["eni-3", "eni-2"],
    release: [
      { eniId: "eni-1", prefixes: false, cidrs: ips(1, 9).slice(1).map((c) => c.cidr) },
      { eniId: "eni-0", prefixes: false, cidrs: ["10.0.0.13/32"] },
    ],
  });
});

test("an ENI is kept when freeing it would leave the pool short", () => {
  const enis = snap(eni("eni-0", 0, ips(0, 9, 8)), eni("eni-1", 1, ips(1, 9)));
  const plan = planPool(enis, targetsWith({ warmIpTarget: 2 }), limitsOf("m5.large"), NOW);
  // Freeing eni-1 would leave 1 available (< 2). Over is 10 - 2 = 8, taken from the emptiest ENI, eni-1,
  // so new pods keep landing on eni-0.
  assert.equal(plan.over, 8);
  assert.deepEqual(actions(plan), {
    ...none,
    release: [{ eniId: "eni-1", prefixes: false, cidrs: ips(1, 9).slice(0, 8).map((c) => c.cidr) }],
  });
});

test("ENIs younger than the minimum age, with a cooling address, primary, trunk or EFA are never freed", () => {
  const young = { createdAt: NOW - 59 * SECOND };
  const enis = snap(
    eni("eni-0", 0, ips(0, 2, 1)),
    eni("eni-1", 1, [], young),
    eni("eni-2", 2, ips(2, 1, 0, 1)),
    eni("eni-3", 3, [], { trunk: true }),
    eni("eni-4", 4, [], { efa: true }),
  );
  const targets = targetsWith({ warmIpTarget: 1 });
  const limits = limitsOf("c5.18xlarge");
  const plan = planPool(enis, targets, limits, NOW);
  assert.deepEqual(actions(plan), none);
  // A minute later both have aged and cooled.
  const later = planPool(enis, targets, limits, NOW + MINUTE);
  assert.deepEqual(actions(later), { ...none, freeEnis: ["eni-1", "eni-2"] });
});

test("WARM_ENI frees ENIs only with a whole extra ENI's worth available (the reference's hysteresis)", () => {
  const three = (held: number) =>
    snap(eni("eni-0", 0, ips(0, 9, held)), eni("eni-1", 1, ips(1, 9)), eni("eni-2", 2, ips(2, 9)));
  // Primary full with 9 pods, two idle ENIs: 18 available ≥ (1 + 1) × 9, and 9 are left after one goes.
  assert.deepEqual(actions(planPool(three(9), targetsWith(), limitsOf("m5.large"), NOW)), { ...none, freeEnis: ["eni-2"] });
  // With 0 pods, 27 available: both idle ENIs go in one plan.
  assert.deepEqual(actions(planPool(three(0), targetsWith(), limitsOf("m5.large"), NOW)), {
    ...none,
    freeEnis: ["eni-2", "eni-1"],
  });
  // Without the hysteresis margin nothing is freed: 9 + 8 = 17 < 18.
  const tight = snap(eni("eni-0", 0, ips(0, 9, 1)), eni("eni-1", 1, ips(1, 9)));
  assert.deepEqual(actions(planPool(tight, targetsWith(), limitsOf("m5.large"), NOW)), none);
});

test("PD WARM_PREFIX=1 on a fresh node: one prefix", () => {
  const plan = planPool(snap(eni("eni-0", 0, [])), targetsWith({ prefixDelegation: true, warmPrefixTarget: 1 }), limitsOf("m5.large"), NOW);
  assert.equal(plan.mode, "warm-prefix");
  assert.deepEqual(actions(plan), { ...none, assign: [{ eniId: "eni-0", prefixCount: 1 }] });
});

test("PD WARM_PREFIX=3 short by 40 addresses asks for 3 prefixes at once", () => {
  const enis = snap(eni("eni-0", 0, prefixes(0, [16, 8])));
  const limits = limitsOf("t3.medium", { maxPods: 110 });
  const plan = planPool(enis, targetsWith({ prefixDelegation: true, warmPrefixTarget: 3 }), limits, NOW);
  assert.equal(plan.short, 40);
  assert.deepEqual(actions(plan), { ...none, assign: [{ eniId: "eni-0", prefixCount: 3 }] });
});

test("PD with WARM_IP/MIN: prefixes cover the shortfall, spilling onto a new ENI", () => {
  // t3.medium under PD: 5 prefixes per ENI. MIN=100 → 7 prefixes.
  const plan = planPool(
    snap(eni("eni-0", 0, [])),
    targetsWith({ prefixDelegation: true, warmIpTarget: 5, minimumIpTarget: 100 }),
    limitsOf("t3.medium", { maxPods: 110 }),
    NOW,
  );
  assert.deepEqual(actions(plan), { ...none, assign: [{ eniId: "eni-0", prefixCount: 5 }], createEnis: [{ prefixCount: 2 }] });
});

test("PD shrink keeps whole prefixes for held, cooling and warm addresses", () => {
  // WARM_IP=5: 20 held + 3 cooling + 5 warm = 28 → 2 prefixes; 3 free prefixes could go, only 2 are clean.
  const enis = snap(eni("eni-0", 0, prefixes(0, [16, 4, 0, 0, 0], [0, 0, 0, 3, 0])));
  const plan = planPool(enis, targetsWith({ prefixDelegation: true, warmIpTarget: 5 }), limitsOf("m5.large"), NOW);
  assert.equal(plan.over, 2);
  assert.deepEqual(actions(plan), {
    ...none,
    release: [{ eniId: "eni-0", prefixes: true, cidrs: ["10.0.0.32/28", "10.0.0.64/28"] }],
  });
});

test("PD WARM_PREFIX shrink: an idle ENI goes first, then free prefixes from the emptiest ENI", () => {
  const enis = snap(
    eni("eni-0", 0, prefixes(0, [16, 10, 0])),
    eni("eni-1", 1, prefixes(1, [3, 0, 0])),
    eni("eni-2", 2, prefixes(2, [0, 0])),
  );
  const plan = planPool(enis, targetsWith({ prefixDelegation: true, warmPrefixTarget: 1 }), limitsOf("m5.large"), NOW);
  assert.equal(plan.over, 4);
  assert.deepEqual(actions(plan), {
    ...none,
    freeEnis: ["eni-2"],
    release: [{ eniId: "eni-1", prefixes: true, cidrs: ["10.1.0.16/28", "10.1.0.32/28"] }],
  });
});

test("inactive-mode CIDRs and an excluded ENI's free CIDRs are released (idle ones only)", () => {
  const enis = snap(
    eni("eni-0", 0, [...ips(0, 3, 1, 1), ...prefixes(0, [2])]),
    eni("eni-1", 1, ips(1, 3, 1), { excluded: true }),
  );
  const plan = planPool(enis, targetsWith({ prefixDelegation: true, warmPrefixTarget: 1 }), limitsOf("m5.large"), NOW);
  // PD and short of a whole free prefix: grow, and tidy up at the same time.
  assert.deepEqual(actions(plan), {
    ...none,
    assign: [{ eniId: "eni-0", prefixCount: 1 }],
    release: [
      { eniId: "eni-0", prefixes: false, cidrs: ["10.0.0.12/32"] },
      { eniId: "eni-1", prefixes: false, cidrs: ["10.0.1.11/32", "10.0.1.12/32"] },
    ],
  });
});

test("the plan does not depend on the order of the snapshot's ENIs or CIDRs", () => {
  const enis = [
    eni("eni-0", 0, ips(0, 9, 3)),
    eni("eni-1", 1, ips(1, 9, 1)),
    eni("eni-2", 2, ips(2, 9)),
    eni("eni-3", 3, ips(3, 9)),
  ];
  const shuffled = [enis[2], enis[0], enis[3], enis[1]].map((e) => ({ ...e!, cidrs: [...e!.cidrs].reverse() }));
  const targets = targetsWith({ warmIpTarget: 5 });
  const a = planPool({ enis }, targets, limitsOf("m5.large"), NOW);
  const b = planPool({ enis: shuffled }, targets, limitsOf("m5.large"), NOW);
  assert.deepEqual(actions(a), actions(b));
  assert.equal(a.reason, b.reason);
});
