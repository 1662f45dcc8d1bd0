import { test } from "node:test";
import assert from "node:assert/strict";
import { DatastoreError, LEGACY_IF_NAME, LEGACY_NETWORK_NAME } from "./datastore.ts";
import type { Datastore } from "./datastore.ts";
import { key, makeDatastore, pod } from "./datastore.test-support.ts";

const isCode = (code: string) => (err: unknown) => err instanceof DatastoreError && err.code === code;

/** Primary ENI with secondary IPs 10.0.0.10-12, ENI 1 with 10.0.0.20-21. */
function twoEnis(ds: Datastore): void {
  ds.addEni({ id: "eni-a", deviceNumber: 0, routeTableId: 254, isPrimary: true });
  ds.addEni({ id: "eni-b", deviceNumber: 1, routeTableId: 2 });
  for (const ip of ["10.0.0.10", "10.0.0.11", "10.0.0.12"]) ds.addCidr("eni-a", `${ip}/32`);
  for (const ip of ["10.0.0.20", "10.0.0.21"]) ds.addCidr("eni-b", `${ip}/32`);
}

test("assign is idempotent per (network, container, ifName) and keeps the first metadata", () => {
  const { ds, store } = makeDatastore();
  twoEnis(ds);
  const first = ds.assign(key("c1"), pod("web"));
  assert.equal(first.reused, false);
  assert.equal(first.address, "10.0.0.10");
  assert.equal(first.deviceNumber, 0);
  assert.equal(first.routeTableId, 254);
  const writes = store.writes.length;
  const again = ds.assign(key("c1"), pod("other"));
  assert.equal(again.reused, true);
  assert.equal(again.address, first.address);
  assert.equal(again.metadata.k8sPodName, "web");
  assert.equal(store.writes.length, writes, "a retried ADD writes nothing");
  // Another interface or network of the same container is another allocation.
  assert.notEqual(ds.assign(key("c1", "eth1")).address, first.address);
  assert.notEqual(ds.assign(key("c1", "eth0", "other-net")).address, first.address);
  assert.equal(ds.stats().assignedIPs, 3);
});

test("assignment records metadata and a nanosecond timestamp from the injected clock", async () => {
  const { ds, clock, store } = makeDatastore();
  twoEnis(ds);
  await clock.advanceTo(1_718_023_456_789.5);
  const a = ds.assign(key("c1"), { k8sPodNamespace: "ns", k8sPodName: "p", k8sPodUID: "uid-1", interfacesCount: 2 });
  assert.equal(a.assignedAtNs, 1_718_023_456_789_500_000n);
  assert.deepEqual(a.metadata, { k8sPodNamespace: "ns", k8sPodName: "p", k8sPodUID: "uid-1", interfacesCount: 2 });
  assert.deepEqual(store.last?.allocations, [
    {
      networkName: "aws-cni",
      containerID: "c1",
      ifName: "eth0",
      ipv4: "10.0.0.10",
      allocationTimestamp: 1_718_023_456_789_500_000n,
      metadata: { k8sPodNamespace: "ns", k8sPodName: "p", interfacesCount: 2 },
    },
  ]);
});

test("release starts a cooldown during which the address is not handed out or counted available", async () => {
  const { ds, clock } = makeDatastore({ cooldownMs: 30_000 });
  ds.addEni({ id: "eni-a", deviceNumber: 0, routeTableId: 254 });
  ds.addCidr("eni-a", "10.0.0.10/32");
  ds.addCidr("eni-a", "10.0.0.11/32");
  assert.equal(ds.assign(key("c1")).address, "10.0.0.10");
  const released = ds.release(key("c1"));
  assert.equal(released?.address, "10.0.0.10");
  assert.equal(released?.interfacesCount, 1, "0 interfaces reads as 1, like the reference");
  assert.deepEqual(ds.stats(), { totalIPs: 2, assignedIPs: 0, cooldownIPs: 1, availableIPs: 1, totalPrefixes: 0, freePrefixes: 0 });

  // The lowest address is cooling, so the next pod gets .11; then nothing is left.
  assert.equal(ds.assign(key("c2")).address, "10.0.0.11");
  await clock.advance(29_999);
  assert.throws(() => ds.assign(key("c3")), isCode("no-available-address"));
  assert.deepEqual(ds.freeableCidrs("eni-a"), []);
  await clock.advance(1);
  assert.equal(ds.stats().cooldownIPs, 0);
  assert.equal(ds.stats().availableIPs, 1);
  assert.deepEqual(ds.freeableCidrs("eni-a"), ["10.0.0.10/32"]);
  assert.equal(ds.assign(key("c3")).address, "10.0.0.10");
});

test("release of an unknown pod is undefined; the legacy CRI-migration key is the fallback", () => {
  const { ds } = makeDatastore();
  twoEnis(ds);
  assert.equal(ds.release(key("nobody")), undefined);
  const legacy = { networkName: LEGACY_NETWORK_NAME, containerID: "c-old", ifName: LEGACY_IF_NAME };
  ds.adopt([{ key: legacy, address: "10.0.0.21", assignedAtNs: 1n, metadata: { k8sPodNamespace: "", k8sPodName: "", k8sPodUID: "", interfacesCount: 0 } }]);
  const released = ds.release(key("c-old"));
  assert.equal(released?.address, "10.0.0.21");
  assert.equal(released?.legacyKey, true);
  assert.deepEqual(released?.key, legacy);
  assert.equal(ds.allocations().length, 0);
});

test("packing: the fullest ENI serves first, ties go to the lowest device number", async () => {
  const { ds, clock } = makeDatastore();
  twoEnis(ds);
  // Put a pod on eni-b explicitly (as a restore would), making it the fullest.
  ds.adopt([{ key: key("x"), address: "10.0.0.21", assignedAtNs: 1n, metadata: { ...pod("x"), k8sPodUID: "" } }]);
  assert.equal(ds.assign(key("c1")).address, "10.0.0.20", "eni-b has 1 assigned, eni-a none");
  // eni-b is full now; eni-a serves from its lowest address up.
  assert.equal(ds.assign(key("c2")).address, "10.0.0.10");
  assert.equal(ds.assign(key("c3")).address, "10.0.0.11");
  // Free one on eni-b and wait out the cooldown: eni-b (1 pod) vs eni-a (2 pods): eni-a is fuller.
  ds.release(key("c1"));
  await clock.advance(60_000);
  assert.equal(ds.assign(key("c4")).address, "10.0.0.12");
  assert.equal(ds.assign(key("c5")).address, "10.0.0.20");
  assert.throws(() => ds.assign(key("c6")), isCode("no-available-address"));
});

test("packing is independent of insertion order", () => {
  const build = (order: string[]): string[] => {
    const { ds } = makeDatastore();
    for (const id of order) ds.addEni({ id, deviceNumber: Number(id.slice(-1)), routeTableId: Number(id.slice(-1)) + 1 });
    const cidrs: Record<string, string[]> = {
      "eni-2": ["10.0.2.3/32", "10.0.2.1/32", "10.0.2.2/32"],
      "eni-0": ["10.0.0.2/32", "10.0.0.1/32"],
      "eni-1": ["10.0.1.1/32"],
    };
    for (const id of order) for (const c of cidrs[id] ?? []) ds.addCidr(id, c);
    return Array.from({ length: 6 }, (_, i) => ds.assign(key(`c${i}`)).address);
  };
  const expected = ["10.0.0.1", "10.0.0.2", "10.0.1.1", "10.0.2.1", "10.0.2.2", "10.0.2.3"];
  assert.deepEqual(build(["eni-0", "eni-1", "eni-2"]), expected);
  assert.deepEqual(build(["eni-2", "eni-1", "eni-0"]), expected);
});

test("prefix delegation: /28s hand out addresses base first, fullest prefix first", async () => {
  const { ds, clock } = makeDatastore({ prefixDelegation: true });
  ds.addEni({ id: "eni-a", deviceNumber: 0, routeTableId: 254 });
  ds.addCidr("eni-a", "10.0.1.32/28");
  ds.addCidr("eni-a", "10.0.1.16/28");
  const got = Array.from({ length: 17 }, (_, i) => ds.assign(key(`c${i}`)).address);
  assert.deepEqual(got.slice(0, 3), ["10.0.1.16", "10.0.1.17", "10.0.1.18"]);
  assert.equal(got[15], "10.0.1.31");
  assert.equal(got[16], "10.0.1.32");
  const s = ds.stats();
  assert.deepEqual(s, { totalIPs: 32, assignedIPs: 17, cooldownIPs: 0, availableIPs: 15, totalPrefixes: 2, freePrefixes: 0 });
  // Releasing in the first prefix does not move new pods away from it once the cooldown ends:
  // it is still the fullest prefix.
  ds.release(key("c3"));
  assert.equal(ds.assign(key("n1")).address, "10.0.1.33", "10.0.1.19 is cooling");
  await clock.advance(30_000);
  assert.equal(ds.assign(key("n2")).address, "10.0.1.19");
});

test("only CIDRs of the active mode serve; switching mode keeps existing pods", () => {
  const { ds } = makeDatastore({ prefixDelegation: false });
  ds.addEni({ id: "eni-a", deviceNumber: 0, routeTableId: 254 });
  ds.addCidr("eni-a", "10.0.0.10/32");
  ds.addCidr("eni-a", "10.0.1.16/28");
  assert.equal(ds.stats().totalIPs, 1);
  assert.equal(ds.assign(key("c1")).address, "10.0.0.10");
  assert.throws(() => ds.assign(key("c2")), isCode("no-available-address"), "the prefix does not serve in /32 mode");
  ds.setPrefixDelegation(true);
  assert.equal(ds.prefixDelegation, true);
  assert.deepEqual(ds.stats(), { totalIPs: 16, assignedIPs: 0, cooldownIPs: 0, availableIPs: 16, totalPrefixes: 1, freePrefixes: 1 });
  assert.equal(ds.assign(key("c2")).address, "10.0.1.16");
  assert.equal(ds.lookup(key("c1"))?.address, "10.0.0.10", "the /32 pod stays");
  const snap = ds.snapshot();
  assert.deepEqual(
    snap.enis[0]?.cidrs.map((c) => [c.cidr, c.active, c.assigned]),
    [
      ["10.0.0.10/32", false, 1],
      ["10.0.1.16/28", true, 1],
    ],
  );
});

test("excluded ENIs never serve and are not counted, but keep their pods", () => {
  const { ds } = makeDatastore();
  twoEnis(ds);
  ds.setEniExcluded("eni-a", true);
  assert.equal(ds.stats().totalIPs, 2);
  assert.equal(ds.assign(key("c1")).address, "10.0.0.20");
  assert.equal(ds.assign(key("c2")).address, "10.0.0.21");
  assert.throws(() => ds.assign(key("c3")), isCode("no-available-address"));
  ds.setEniExcluded("eni-a", false);
  const onA = ds.assign(key("c3"));
  assert.equal(onA.eniId, "eni-a");
  ds.setEniExcluded("eni-a", true);
  assert.equal(ds.lookup(key("c3"))?.address, onA.address);
  assert.equal(ds.stats().assignedIPs, 2, "the excluded ENI's pod is outside the pool stats");
  assert.equal(ds.release(key("c3"))?.address, onA.address);
  ds.addEni({ id: "eni-x", deviceNumber: 2, routeTableId: 3, isExcluded: true });
  ds.addCidr("eni-x", "10.0.0.30/32");
  assert.throws(() => ds.assign(key("c4")), isCode("no-available-address"));
});

test("removing a busy CIDR or ENI is refused; forced removal reports the pods and drops them", () => {
  const { ds, store } = makeDatastore({ prefixDelegation: true });
  ds.addEni({ id: "eni-a", deviceNumber: 0, routeTableId: 254 });
  ds.addEni({ id: "eni-b", deviceNumber: 1, routeTableId: 2 });
  ds.addCidr("eni-a", "10.0.1.16/28");
  ds.addCidr("eni-b", "10.0.2.0/28");
  ds.addCidr("eni-b", "10.0.2.16/28");
  ds.assign(key("c1"), pod("p1"));
  ds.assign(key("c2"), pod("p2"));
  assert.throws(() => ds.removeCidr("eni-a", "10.0.1.16/28"), isCode("cidr-in-use"));
  assert.throws(() => ds.removeEni("eni-a"), isCode("eni-in-use"));
  assert.throws(() => ds.removeCidr("eni-a", "10.0.9.0/28"), isCode("unknown-cidr"));
  assert.throws(() => ds.removeEni("eni-z"), isCode("unknown-eni"));
  assert.equal(ds.allocations().length, 2, "refusals change nothing");

  // Unused CIDRs and ENIs go without force and without a checkpoint write.
  const writes = store.writes.length;
  assert.deepEqual(ds.removeCidr("eni-b", "10.0.2.16/28"), { affected: [] });
  assert.deepEqual(ds.removeEni("eni-b"), { affected: [] });
  assert.equal(store.writes.length, writes);

  const forced = ds.removeCidr("eni-a", "10.0.1.16/28", { force: true });
  assert.deepEqual(
    forced.affected.map((a) => [a.address, a.metadata.k8sPodName]),
    [
      ["10.0.1.16", "p1"],
      ["10.0.1.17", "p2"],
    ],
  );
  assert.deepEqual(store.last?.allocations, []);
  assert.equal(ds.lookup(key("c1")), undefined);
  assert.equal(ds.snapshot().enis[0]?.assigned, 0);

  ds.addCidr("eni-a", "10.0.1.32/28");
  ds.assign(key("c3"), pod("p3"));
  const gone = ds.removeEni("eni-a", { force: true });
  assert.deepEqual(gone.affected.map((a) => a.address), ["10.0.1.32"]);
  assert.equal(ds.hasEni("eni-a"), false);
  assert.deepEqual(ds.allocations(), []);
});

test("a failed checkpoint write leaves the datastore exactly as it was", async () => {
  const { ds, store, clock } = makeDatastore({ prefixDelegation: true });
  ds.addEni({ id: "eni-a", deviceNumber: 0, routeTableId: 254 });
  ds.addCidr("eni-a", "10.0.1.16/28");
  ds.assign(key("c1"), pod("p1"));
  const before = ds.snapshot();

  store.failNext = 1;
  assert.throws(
    () => ds.assign(key("c2"), pod("p2")),
    (err: unknown) => isCode("checkpoint-write-failed")(err) && (err as Error).cause instanceof Error,
  );
  assert.deepEqual(ds.snapshot(), before);
  store.failNext = 1;
  assert.throws(() => ds.release(key("c1")), isCode("checkpoint-write-failed"));
  assert.deepEqual(ds.snapshot(), before);
  assert.equal(ds.lookup(key("c1"))?.address, "10.0.1.16");
  store.failNext = 1;
  assert.throws(() => ds.removeCidr("eni-a", "10.0.1.16/28", { force: true }), isCode("checkpoint-write-failed"));
  store.failNext = 1;
  assert.throws(() => ds.removeEni("eni-a", { force: true }), isCode("checkpoint-write-failed"));
  assert.deepEqual(ds.snapshot(), before);

  // And it works again afterwards, handing out the address the failed ADD did not get.
  await clock.advance(1);
  assert.equal(ds.assign(key("c2")).address, "10.0.1.17");
});

test("CIDR validation: malformed, duplicate and overlapping CIDRs are refused", () => {
  const { ds } = makeDatastore();
  twoEnis(ds);
  assert.throws(() => ds.addEni({ id: "eni-a", deviceNumber: 5, routeTableId: 6 }), isCode("duplicate-eni"));
  assert.throws(() => ds.addCidr("eni-a", "10.0.0.10"), isCode("invalid-cidr"));
  assert.throws(() => ds.addCidr("eni-a", "10.0.0.17/28"), isCode("invalid-cidr"));
  assert.throws(() => ds.addCidr("eni-a", "10.0.0.10/32"), isCode("duplicate-cidr"));
  assert.throws(() => ds.addCidr("eni-a", "10.0.0.16/28"), isCode("cidr-overlap"), "contains 10.0.0.20 on eni-b");
  assert.throws(() => ds.addCidr("eni-z", "10.0.9.1/32"), isCode("unknown-eni"));
  assert.equal(ds.addCidr("eni-a", "10.0.0.32/28"), "10.0.0.32/28");
});

test("stats and snapshot: counts, cooldown and the per-ENI view", async () => {
  const { ds, clock } = makeDatastore({ prefixDelegation: true, cooldownMs: 10_000 });
  ds.addEni({ id: "eni-b", deviceNumber: 1, routeTableId: 2, subnetId: "subnet-1" });
  ds.addEni({ id: "eni-a", deviceNumber: 0, routeTableId: 254, isPrimary: true });
  ds.addCidr("eni-a", "10.0.1.16/28");
  ds.addCidr("eni-b", "10.0.2.0/28");
  ds.assign(key("c1"), pod("p1"));
  ds.assign(key("c2"), pod("p2"));
  ds.release(key("c1"));
  await clock.advance(5_000);
  assert.deepEqual(ds.stats(), { totalIPs: 32, assignedIPs: 1, cooldownIPs: 1, availableIPs: 30, totalPrefixes: 2, freePrefixes: 1 });
  const snap = ds.snapshot();
  assert.equal(snap.takenAtMs, clock.now());
  assert.deepEqual(
    snap.enis.map((e) => [e.id, e.deviceNumber, e.isPrimary, e.subnetId, e.assigned, e.cooldown]),
    [
      ["eni-a", 0, true, "", 1, 1],
      ["eni-b", 1, false, "subnet-1", 0, 0],
    ],
  );
  assert.deepEqual(
    snap.enis[0]?.cidrs[0]?.addresses.map((a) => [a.address, a.key?.containerID, a.inCooldown, a.releasedAtMs !== undefined]),
    [
      ["10.0.1.16", undefined, true, true],
      ["10.0.1.17", "c2", false, false],
    ],
  );
  await clock.advance(5_000);
  assert.equal(ds.stats().cooldownIPs, 0);
  assert.equal(ds.stats().freePrefixes, 1);
});

test("IPv6: /80 prefixes hold addresses, base first, and are written as ipv6", () => {
  const { ds, store } = makeDatastore({ family: "6", prefixDelegation: true });
  ds.addEni({ id: "eni-a", deviceNumber: 0, routeTableId: 254 });
  ds.addCidr("eni-a", "2600:1f14:0:1:ab00::/80");
  ds.addCidr("eni-a", "10.0.0.10/32");
  assert.equal(ds.stats().totalIPs, 2 ** 48);
  assert.equal(ds.assign(key("c1")).address, "2600:1f14:0:1:ab00::");
  assert.equal(ds.assign(key("c2")).address, "2600:1f14:0:1:ab00::1");
  assert.equal(store.last?.allocations[1]?.ipv6, "2600:1f14:0:1:ab00::1");
  assert.equal(store.last?.allocations[1]?.ipv4, undefined);
});

test("removing and re-adding a CIDR does not cut the cooldown short; forced removal starts one", async () => {
  const { ds, clock } = makeDatastore({ cooldownMs: 30_000 });
  ds.addEni({ id: "eni-a", deviceNumber: 0, routeTableId: 254 });
  ds.addCidr("eni-a", "10.0.0.10/32");
  ds.addCidr("eni-a", "10.0.0.11/32");
  ds.assign(key("c1"));
  ds.release(key("c1"));
  ds.removeCidr("eni-a", "10.0.0.10/32");
  await clock.advance(10_000);
  ds.addCidr("eni-a", "10.0.0.10/32");
  assert.equal(ds.stats().cooldownIPs, 1);
  assert.equal(ds.assign(key("c2")).address, "10.0.0.11");
  // The pod on .11 loses its CIDR behind our back; if EC2 gives it back soon, .11 still cools.
  ds.removeCidr("eni-a", "10.0.0.11/32", { force: true });
  await clock.advance(20_000);
  ds.addCidr("eni-a", "10.0.0.11/32");
  assert.equal(ds.assign(key("c3")).address, "10.0.0.10", ".10 has cooled for 30 s; .11 only for 20 s");
  assert.throws(() => ds.assign(key("c4")), isCode("no-available-address"));
  await clock.advance(10_000);
  assert.equal(ds.assign(key("c4")).address, "10.0.0.11");
});
