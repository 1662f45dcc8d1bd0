// The pool manager against an in-memory cloud that behaves like EC2 (limits, latency, failures).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Datastore } from "./datastore/datastore.ts";
import { addCidrOnce, NoAddressError, PoolManager, type PoolCloud } from "./pool-manager.ts";
import type { AddressRequest, PoolLimits, PoolTargets } from "./pool/index.ts";
import { realScheduler, type Clock } from "../time/scheduler.ts";
import { VirtualScheduler } from "../time/virtual-scheduler.ts";

class FakeCloud implements PoolCloud {
  calls: string[] = [];
  /** Every call with the time it was made (and the CIDRs of a release). */
  readonly timeline: { at: number; call: string; cidrs: readonly string[] }[] = [];
  next = 10;
  devices = 1;
  failAssign = 0;
  pausedUntil = 0;
  readonly ipsPerEni: number;
  readonly held = new Map<string, number>();
  readonly #clock: Clock;
  /** EC2's latency is slept on `clock`: real time, or the test's virtual time. */
  constructor(ipsPerEni: number, clock: Clock = realScheduler) {
    this.ipsPerEni = ipsPerEni;
    this.#clock = clock;
  }
  #record(call: string, cidrs: readonly string[] = []): void {
    this.calls.push(call);
    this.timeline.push({ at: this.#clock.now(), call, cidrs });
  }
  #addresses(n: number): string[] {
    return Array.from({ length: n }, () => `10.0.${Math.floor(this.next / 250)}.${(this.next++ % 250) + 1}/32`);
  }
  async assign(eniId: string, request: AddressRequest): Promise<string[]> {
    this.#record(`assign ${eniId} ${request.ipCount}`);
    await this.#clock.sleep(5);
    if (this.failAssign > 0) {
      this.failAssign--;
      throw new Error("RequestLimitExceeded");
    }
    const have = this.held.get(eniId) ?? 0;
    if (have + (request.ipCount ?? 0) > this.ipsPerEni) throw new Error("PrivateIpAddressLimitExceeded");
    this.held.set(eniId, have + (request.ipCount ?? 0));
    return this.#addresses(request.ipCount ?? 0);
  }
  async createEni(request: AddressRequest) {
    const deviceNumber = this.devices++;
    const eniId = `eni-${String(deviceNumber).padStart(17, "0")}`;
    this.#record(`create ${request.ipCount}`);
    await this.#clock.sleep(10);
    this.held.set(eniId, request.ipCount ?? 0);
    const cidrs = this.#addresses(request.ipCount ?? 0);
    return { eniId, mac: "02:00:00:00:00:01", deviceNumber, routeTableId: deviceNumber + 1, subnetId: "subnet-1", subnetCidr: "10.0.0.0/16", primaryIp: "10.0.255.1", cidrs };
  }
  async release(eniId: string, cidrs: readonly string[]) {
    this.#record(`release ${eniId} ${cidrs.length}`, cidrs);
    this.held.set(eniId, (this.held.get(eniId) ?? 0) - cidrs.length);
  }
  failFree = false;
  async freeEni(eniId: string) {
    this.#record(`free ${eniId}`);
    if (this.failFree) throw new Error("IncorrectState");
    this.held.delete(eniId);
  }
  growthPausedUntil() {
    return this.pausedUntil;
  }
}

const m5large: PoolLimits = { enis: 3, ipv4PerEni: 10, maxPods: 29, unmanagedEnis: 0, reserveTrunkSlot: false };
function targets(over: Partial<PoolTargets> = {}): PoolTargets {
  return { prefixDelegation: false, warmEniTarget: 1, warmIpTarget: 0, minimumIpTarget: 0, warmPrefixTarget: 0, maxEni: -1, ipCooldownMs: 100, minEniAgeMs: 0, ...over };
}

function setup(t: Partial<PoolTargets> = {}, limits = m5large) {
  const ds = new Datastore({ now: Date.now, cooldownMs: t.ipCooldownMs ?? 100 });
  ds.addEni({ id: "eni-primary0000000000", deviceNumber: 0, routeTableId: 254, isPrimary: true });
  const cloud = new FakeCloud(limits.ipv4PerEni - 1);
  cloud.held.set("eni-primary0000000000", 0);
  const logs: string[] = [];
  const pool = new PoolManager({
    datastore: ds,
    cloud,
    targets: targets(t),
    limits: () => limits,
    scheduler: realScheduler,
    log: (_l, msg) => logs.push(msg),
    minIntervalMs: 5,
    tickMs: 60_000,
    shrinkIntervalMs: 0,
    growthWaitMs: 2_000,
  });
  return { ds, cloud, pool, logs };
}

const key = (i: number) => ({ networkName: "aws-cni", containerID: `c${i}`, ifName: "eth0" });

describe("pool manager", () => {
  test("start-up fills the warm pool as WARM_ENI_TARGET=1 asks: the primary ENI's addresses", async () => {
    const { ds, cloud, pool } = setup();
    await pool.runPassNow();
    assert.equal(ds.stats().totalIPs, 9);
    assert.deepEqual(cloud.calls, ["assign eni-primary0000000000 9"]);
    await pool.stop();
  });

  test("an empty pool: concurrent allocations wait, are coalesced, and past the ENI limit get a clear answer", async () => {
    const { ds, cloud, pool } = setup({ warmEniTarget: 0, warmIpTarget: 1 });
    const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => pool.allocate(key(i), { k8sPodNamespace: "ns", k8sPodName: `p${i}` }, 29)));
    const ok = results.filter((r) => r.status === "fulfilled");
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    assert.equal(ok.length, 27, "3 ENIs x 9 addresses");
    assert.equal(failed.length, 3);
    for (const f of failed) {
      assert.ok(f.reason instanceof NoAddressError, String(f.reason));
      assert.match(f.reason.message, /^no address: /);
    }
    const addresses = ok.map((r) => (r as PromiseFulfilledResult<{ address: string }>).value.address);
    assert.equal(new Set(addresses).size, 27, "no address given twice");
    // Demand was coalesced: one call per ENI, not one per pod.
    assert.ok(cloud.calls.length <= 4, cloud.calls.join("; "));
    assert.equal(ds.stats().assignedIPs, 27);
    await pool.stop();
  });

  test("max pods is a hard cap with its own message", async () => {
    const { pool } = setup();
    await pool.runPassNow();
    await pool.allocate(key(1), {}, 1);
    await assert.rejects(pool.allocate(key(2), {}, 1), /already has 1 pod addresses, its max pods \(1\)/);
    // A retried ADD for a pod that has its address still gets it.
    assert.equal((await pool.allocate(key(1), {}, 1)).reused, true);
    await pool.stop();
  });

  test("a failed EC2 call is retried by a later pass; the allocation still succeeds within its wait", async () => {
    const { cloud, pool } = setup({ warmEniTarget: 0, warmIpTarget: 2 });
    cloud.failAssign = 1;
    const got = await pool.allocate(key(1), {}, 29);
    assert.match(got.address, /^10\.0\./);
    assert.ok(cloud.calls.filter((c) => c.startsWith("assign")).length >= 2);
    await pool.stop();
  });

  test("releasing everything shrinks the pool back to target once the cooldown is over", async () => {
    const { ds, cloud, pool } = setup({ warmEniTarget: 0, warmIpTarget: 2, ipCooldownMs: 50 });
    const got = await Promise.all(Array.from({ length: 12 }, (_, i) => pool.allocate(key(i), {}, 29)));
    assert.equal(got.length, 12);
    await pool.runPassNow();
    const enisAtPeak = ds.snapshot().enis.length;
    assert.equal(enisAtPeak, 2);
    for (let i = 0; i < 12; i++) pool.release(key(i));
    await pool.runPassNow();
    assert.equal(ds.snapshot().enis.length, 2, "nothing is returned while addresses cool");
    await new Promise((r) => setTimeout(r, 80));
    await pool.runPassNow();
    assert.equal(ds.stats().totalIPs, 2, "back to WARM_IP_TARGET");
    assert.equal(ds.snapshot().enis.length, 1, "the emptied ENI is freed");
    assert.ok(cloud.calls.some((c) => c.startsWith("free ")));
    await pool.stop();
  });

  test("a growth pause (subnet out of addresses) makes an empty pool answer at once", async () => {
    const { cloud, pool } = setup({ warmEniTarget: 0, warmIpTarget: 1 });
    cloud.pausedUntil = Date.now() + 60_000;
    await assert.rejects(pool.allocate(key(1), {}, 29), /subnet is out of addresses; growth resumes in \d+ s/);
    assert.deepEqual(cloud.calls, []);
    await pool.stop();
  });

  test("an address EC2 moved to another ENI while a pod holds it is reported, not served twice", () => {
    const ds = new Datastore({ now: Date.now });
    ds.addEni({ id: "eni-a0000000000000000", deviceNumber: 1, routeTableId: 2 });
    ds.addEni({ id: "eni-b0000000000000000", deviceNumber: 2, routeTableId: 3 });
    const logs: string[] = [];
    const log = (_l: string, msg: string) => void logs.push(msg);
    assert.equal(addCidrOnce(ds, "eni-a0000000000000000", "10.0.0.9/32", log), true);
    assert.equal(addCidrOnce(ds, "eni-a0000000000000000", "10.0.0.9/32", log), false, "already known");
    ds.assign(key(1), {});
    assert.equal(addCidrOnce(ds, "eni-b0000000000000000", "10.0.0.9/32", log), false);
    assert.match(logs.join("\n"), /still holds it elsewhere for a pod/);
    assert.equal(ds.locate("10.0.0.9")?.eniId, "eni-a0000000000000000", "the pod's address stays where it is");
  });

  test("a pass never runs alongside another: a trigger's timer that fires during runPassNow's pass does not start a second", async () => {
    const { cloud, pool } = setup();
    pool.trigger(); // arms the timer
    await pool.runPassNow(); // starts a pass before the timer fires
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(cloud.calls, ["assign eni-primary0000000000 9"], "one plan, one EC2 call");
    await pool.stop();
  });

  test("an ENI put back after a failed free keeps its flags: an excluded ENI does not start serving", async () => {
    const { ds, cloud, pool } = setup({ warmEniTarget: 0, warmIpTarget: 1 });
    ds.addCidr("eni-primary0000000000", "10.0.0.5/32");
    ds.addEni({ id: "eni-b0000000000000000", deviceNumber: 1, routeTableId: 2, isExcluded: true });
    cloud.failFree = true;
    await pool.runPassNow();
    assert.ok(cloud.calls.includes("free eni-b0000000000000000"), cloud.calls.join("; "));
    const b = ds.snapshot().enis.find((e) => e.id === "eni-b0000000000000000");
    assert.equal(b?.isExcluded, true);
    await pool.stop();
  });
});

describe("pool manager on virtual time", () => {
  test("an hour of pod waves: every pass spaced, shrinks spaced, addresses returned only after their cooldown, back at target", async () => {
    const HOUR = 3_600_000;
    const COOLDOWN = 30_000;
    const scheduler = new VirtualScheduler({ start: Date.UTC(2025, 0, 1) });
    const start = scheduler.now();
    const ds = new Datastore({ now: scheduler.now, cooldownMs: COOLDOWN });
    ds.addEni({ id: "eni-primary0000000000", deviceNumber: 0, routeTableId: 254, isPrimary: true });
    const cloud = new FakeCloud(m5large.ipv4PerEni - 1, scheduler);
    cloud.held.set("eni-primary0000000000", 0);
    const passesAt: number[] = [];
    // The reference's timings, as the agent runs them: 200 ms between passes, a 5 s tick, shrinks 30 s
    // apart, ENIs kept at least a minute, allocations waiting up to 20 s.
    const pool = new PoolManager({
      datastore: ds,
      cloud,
      targets: targets({ warmEniTarget: 0, warmIpTarget: 5, ipCooldownMs: COOLDOWN, minEniAgeMs: 60_000 }),
      limits: () => m5large,
      scheduler,
      log: () => undefined,
      onPlan: () => passesAt.push(scheduler.now()),
    });
    pool.start();

    // A wave of 12 pods every 2 minutes for 50 minutes, each living 50 s: the pool grows past the primary
    // ENI for every wave and gives the extra back between waves.
    const releasedAt = new Map<string, number>();
    const eniOf = new Map<string, string>();
    const failures: string[] = [];
    let served = 0;
    let reusedInCooldown = 0;
    const wave = async (w: number) => {
      await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const k = key(w * 100 + i);
          try {
            const got = await pool.allocate(k, {}, m5large.maxPods);
            const freed = releasedAt.get(got.address);
            if (freed !== undefined && scheduler.now() < freed + COOLDOWN) reusedInCooldown++;
            served++;
            eniOf.set(got.address, got.eniId);
            scheduler.after(50_000, () => {
              pool.release(k);
              releasedAt.set(got.address, scheduler.now());
            });
          } catch (err) {
            failures.push(`wave ${w} pod ${i}: ${(err as Error).message}`);
          }
        }),
      );
    };
    for (let w = 0; w < 25; w++) scheduler.after(10_000 + w * 120_000, () => void wave(w));

    await scheduler.advance(HOUR);
    assert.equal(scheduler.now() - start, HOUR);
    await pool.stop();

    assert.deepEqual(failures, []);
    assert.equal(served, 25 * 12);
    assert.equal(reusedInCooldown, 0, "no address handed out again inside its cooldown");
    // At least one pass per 5 s tick, and never two closer than the 200 ms minimum interval.
    assert.ok(passesAt.length >= HOUR / 5_000, `${passesAt.length} passes`);
    const gaps = passesAt.slice(1).map((t, i) => t - passesAt[i]!);
    assert.ok(Math.min(...gaps) >= 200, `passes ${Math.min(...gaps)} ms apart`);
    // Growth and shrinking every wave; shrinking passes at least 30 s apart.
    const timeOf = (kind: string) => cloud.timeline.filter((c) => c.call.startsWith(kind)).map((c) => c.at);
    assert.ok(timeOf("create").length >= 20, `${timeOf("create").length} ENIs created`);
    assert.ok(timeOf("free").length >= 20, `${timeOf("free").length} ENIs freed`);
    const passOf = (t: number) => passesAt.findLast((p) => p <= t)!;
    const shrinkPasses = [...new Set([...timeOf("release"), ...timeOf("free")].map(passOf))].sort((a, b) => a - b);
    const shrinkGaps = shrinkPasses.slice(1).map((t, i) => t - shrinkPasses[i]!);
    assert.ok(shrinkPasses.length >= 20 && Math.min(...shrinkGaps) >= 30_000, `shrinking passes ${shrinkGaps.join(", ")} ms apart`);
    // An address a pod gave up goes back to EC2 (unassigned, or with its ENI) only once its cooldown is
    // over. (Release times are the last pod's on each address: a checked return may be of an earlier pod.)
    const returned = cloud.timeline.flatMap((c) => {
      if (c.call.startsWith("release ")) return c.cidrs.map((cidr) => ({ at: c.at, address: cidr.replace("/32", "") }));
      if (c.call.startsWith("free ")) return [...eniOf].filter(([, eni]) => c.call === `free ${eni}`).map(([address]) => ({ at: c.at, address }));
      return [];
    });
    assert.ok(returned.length > 0);
    for (const r of returned) {
      const left = releasedAt.get(r.address);
      assert.ok(left === undefined || r.at < left || r.at >= left + COOLDOWN, `${r.address} returned ${r.at - (left ?? 0)} ms after its pod left`);
    }
    // The last pods left 40 minutes before the end: the pool is back at WARM_IP_TARGET on the primary ENI.
    assert.deepEqual(ds.stats(), { totalIPs: 5, assignedIPs: 0, cooldownIPs: 0, availableIPs: 5, totalPrefixes: 0, freePrefixes: 0 });
    assert.equal(ds.snapshot().enis.length, 1);
  });
});
