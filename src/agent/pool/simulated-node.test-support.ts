// Test support: a tiny node + EC2 that applies pool plans the way EC2 would, hands pod addresses out the way
// the datastore should (eniFillOrder, then cidrFillOrder), and checks on every step that no plan breaks an
// EC2 limit or returns a held or cooling address.

import assert from "node:assert/strict";
import type { PoolLimits, PoolPlan, PoolSnapshot, PoolTargets, EniSnapshot } from "./types.ts";
import { planPool, isPlanEmpty } from "./plan.ts";
import { cidrFillOrder, eniFillOrder } from "./order.ts";
import { derivedLimits } from "./targets.ts";

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;

/** The reference's defaults: WARM_ENI_TARGET=1, 30 s cooldown, 1 min minimum ENI age. */
export function targetsWith(overrides: Partial<PoolTargets> = {}): PoolTargets {
  return {
    prefixDelegation: false,
    warmEniTarget: 1,
    warmIpTarget: 0,
    minimumIpTarget: 0,
    warmPrefixTarget: 0,
    maxEni: -1,
    ipCooldownMs: 30 * SECOND,
    minEniAgeMs: MINUTE,
    ...overrides,
  };
}

/** Limits of the types the tests use (data/instance-types.tsv), max pods from its last column. */
export const INSTANCE = {
  "t3.small": { enis: 3, ipv4PerEni: 4, maxPods: 11 },
  "t3.medium": { enis: 3, ipv4PerEni: 6, maxPods: 17 },
  "m5.large": { enis: 3, ipv4PerEni: 10, maxPods: 29 },
  "c5.18xlarge": { enis: 15, ipv4PerEni: 50, maxPods: 737 },
} as const;

export function limitsOf(type: keyof typeof INSTANCE, overrides: Partial<PoolLimits> = {}): PoolLimits {
  const row = INSTANCE[type];
  return {
    enis: row.enis,
    ipv4PerEni: row.ipv4PerEni,
    maxPods: row.maxPods,
    unmanagedEnis: 0,
    reserveTrunkSlot: false,
    ...overrides,
  };
}

interface SimAddress {
  pod: string | undefined;
  unassignedAt: number | undefined;
}

interface SimCidr {
  cidr: string;
  isPrefix: boolean;
  addresses: SimAddress[];
}

interface SimEni {
  id: string;
  deviceNumber: number;
  primary: boolean;
  trunk: boolean;
  efa: boolean;
  excluded: boolean;
  createdAt: number;
  cidrs: SimCidr[];
}

export interface EniSummary {
  id: string;
  ips: number;
  prefixes: number;
  pods: number;
}

export class SimNode {
  now: number;
  targets: PoolTargets;
  readonly limits: PoolLimits;
  readonly enis: SimEni[] = [];
  /** Every non-empty plan applied, in order. */
  readonly plans: PoolPlan[] = [];
  #nextEni = 1;
  #nextIp = 10;
  #nextPrefix = 0;
  #nextPod = 1;

  constructor(limits: PoolLimits, targets: PoolTargets, start = Date.UTC(2025, 0, 1)) {
    this.limits = limits;
    this.targets = targets;
    this.now = start;
    // The primary ENI exists before the agent starts; it has no secondary addresses yet.
    this.addEni({ primary: true, createdAt: start - 10 * MINUTE });
  }

  addEni(options: Partial<Omit<SimEni, "cidrs" | "id" | "deviceNumber">> = {}): string {
    const used = new Set(this.enis.map((eni) => eni.deviceNumber));
    let deviceNumber = 0;
    while (used.has(deviceNumber)) deviceNumber++;
    const id = options.primary ? "eni-primary" : `eni-${this.#nextEni++}`;
    this.enis.push({
      id,
      deviceNumber,
      primary: false,
      trunk: false,
      efa: false,
      excluded: false,
      createdAt: this.now,
      ...options,
      cidrs: [],
    });
    return id;
  }

  /** EC2 picks the addresses; the sim hands out distinct /32s and aligned /28s. */
  addCidrs(eniId: string, ipCount: number, prefixCount: number): void {
    const eni = this.eni(eniId);
    for (let i = 0; i < ipCount; i++) {
      const n = this.#nextIp++;
      eni.cidrs.push({ cidr: `10.0.${n >> 8}.${n & 255}/32`, isPrefix: false, addresses: [freeAddress()] });
    }
    for (let i = 0; i < prefixCount; i++) {
      const n = this.#nextPrefix++;
      eni.cidrs.push({
        cidr: `10.1.${n >> 4}.${(n & 15) * 16}/28`,
        isPrefix: true,
        addresses: Array.from({ length: 16 }, freeAddress),
      });
    }
  }

  eni(id: string): SimEni {
    const eni = this.enis.find((e) => e.id === id);
    assert.ok(eni, `no ENI ${id}`);
    return eni;
  }

  snapshot(waiting = 0): PoolSnapshot {
    return {
      waiting,
      enis: this.enis.map(
        (eni): EniSnapshot => ({
          id: eni.id,
          deviceNumber: eni.deviceNumber,
          primary: eni.primary,
          trunk: eni.trunk,
          efa: eni.efa,
          excluded: eni.excluded,
          createdAt: eni.createdAt,
          cidrs: eni.cidrs.map((cidr) => ({
            cidr: cidr.cidr,
            isPrefix: cidr.isPrefix,
            size: cidr.addresses.length,
            assigned: cidr.addresses.filter((a) => a.pod !== undefined).length,
            unassignedAt: cidr.addresses.flatMap((a) =>
              a.pod === undefined && a.unassignedAt !== undefined ? [a.unassignedAt] : [],
            ),
          })),
        }),
      ),
    };
  }

  plan(waiting = 0): PoolPlan {
    return planPool(this.snapshot(waiting), this.targets, this.limits, this.now);
  }

  /** Apply a plan as EC2 would, refusing anything EC2 or the brief forbids. */
  apply(plan: PoolPlan): void {
    const derived = derivedLimits(this.targets, this.limits);
    const pd = this.targets.prefixDelegation;
    for (const release of plan.release) {
      const eni = this.eni(release.eniId);
      for (const text of release.cidrs) {
        const cidr = eni.cidrs.find((c) => c.cidr === text);
        assert.ok(cidr, `release of unknown ${text} on ${eni.id}`);
        assert.equal(cidr.isPrefix, release.prefixes, `${text} released as the wrong kind`);
        for (const address of cidr.addresses) {
          assert.equal(address.pod, undefined, `release of ${text} while a pod holds it`);
          assert.ok(!this.#cooling(address), `release of ${text} inside the cooldown`);
        }
        eni.cidrs = eni.cidrs.filter((c) => c !== cidr);
      }
    }
    for (const id of plan.freeEnis) {
      const eni = this.eni(id);
      assert.ok(!eni.primary && !eni.trunk && !eni.efa, `free of ${id}, which must stay`);
      assert.ok(this.now - eni.createdAt >= this.targets.minEniAgeMs, `free of ${id} younger than the minimum age`);
      for (const cidr of eni.cidrs) {
        for (const address of cidr.addresses) {
          assert.equal(address.pod, undefined, `free of ${id} while a pod is on it`);
          assert.ok(!this.#cooling(address), `free of ${id} with a cooling address`);
        }
      }
      this.enis.splice(this.enis.indexOf(eni), 1);
    }
    for (const assign of plan.assign) {
      const eni = this.eni(assign.eniId);
      assert.ok(!eni.trunk && !eni.excluded, `assign to ${eni.id}, which takes no pod addresses`);
      this.#checkRequest(assign, pd);
      this.addCidrs(eni.id, assign.ipCount ?? 0, assign.prefixCount ?? 0);
      assert.ok(eni.cidrs.length <= derived.slotsPerEni, `${eni.id} over its per-ENI limit`);
    }
    for (const create of plan.createEnis) {
      this.#checkRequest(create, pd);
      const id = this.addEni();
      this.addCidrs(id, create.ipCount ?? 0, create.prefixCount ?? 0);
      assert.ok(this.eni(id).cidrs.length <= derived.slotsPerEni, `new ENI over its per-ENI limit`);
    }
    const trunkReserve = this.limits.reserveTrunkSlot && !this.enis.some((e) => e.trunk) ? 1 : 0;
    assert.ok(
      this.enis.length + this.limits.unmanagedEnis + trunkReserve <= derived.maxEnis,
      `${this.enis.length} ENIs over the limit of ${derived.maxEnis}`,
    );
    if (!isPlanEmpty(plan)) this.plans.push(plan);
  }

  #checkRequest(request: { ipCount?: number | undefined; prefixCount?: number | undefined }, pd: boolean): void {
    const count = pd ? request.prefixCount : request.ipCount;
    assert.ok(count !== undefined && Number.isInteger(count) && count > 0, `bad request ${JSON.stringify(request)}`);
    assert.equal(pd ? request.ipCount : request.prefixCount, undefined, "request of the inactive kind");
  }

  #cooling(address: SimAddress): boolean {
    return address.unassignedAt !== undefined && this.now - address.unassignedAt < this.targets.ipCooldownMs;
  }

  /** Plan and apply until the plan is empty; returns how many non-empty plans it took. */
  settle(maxRounds = 20): number {
    for (let round = 0; round < maxRounds; round++) {
      const plan = this.plan();
      if (isPlanEmpty(plan)) return round;
      this.apply(plan);
    }
    assert.fail(`pool did not settle in ${maxRounds} rounds: ${this.plan().reason}`);
  }

  /** The datastore's selection: fullest ENI, fullest CIDR, first usable address. */
  assignPod(pod: string): string | undefined {
    const pd = this.targets.prefixDelegation;
    for (const eniView of eniFillOrder(this.snapshot().enis)) {
      const eni = this.eni(eniView.id);
      const byCidr = new Map(eni.cidrs.map((c) => [c.cidr, c]));
      for (const cidrView of cidrFillOrder(eniView.cidrs)) {
        const cidr = byCidr.get(cidrView.cidr);
        if (cidr === undefined || cidr.isPrefix !== pd) continue;
        const index = cidr.addresses.findIndex((a) => a.pod === undefined && !this.#cooling(a));
        const address = cidr.addresses[index];
        if (address === undefined) continue;
        address.pod = pod;
        address.unassignedAt = undefined;
        return `${cidr.cidr}#${index}`;
      }
    }
    return undefined;
  }

  /**
   * Start pods one by one. An allocation that finds no address makes the agent plan at once (the brief's
   * "allocation starts growth"); with `tick`, the pool also settles after every pod like a periodic tick.
   */
  startPods(count: number, options: { tick?: boolean; prefix?: string } = {}): void {
    for (let i = 0; i < count; i++) {
      const pod = `${options.prefix ?? "pod"}-${this.#nextPod++}`;
      if (this.assignPod(pod) === undefined) {
        this.settle();
        assert.ok(this.assignPod(pod) !== undefined, `no address for ${pod}: ${this.plan().reason}`);
      }
      if (options.tick) this.settle();
    }
    this.settle();
  }

  /**
   * Start pods all at once, as a burst of concurrent ADDs: those that find no address wait, and the agent
   * makes one plan for all the waiters. Returns how many pods got no address even then.
   */
  startPodsTogether(count: number): number {
    let waiting = 0;
    for (let i = 0; i < count; i++) {
      if (this.assignPod(`pod-${this.#nextPod++}`) === undefined) waiting++;
    }
    if (waiting > 0) this.apply(this.plan(waiting));
    let failed = 0;
    for (let i = 0; i < waiting; i++) {
      if (this.assignPod(`pod-${this.#nextPod++}`) === undefined) failed++;
    }
    this.settle();
    return failed;
  }

  /** Delete pods: the newest first unless named; their addresses start cooling now. */
  deletePods(count: number): void {
    const held = this.enis.flatMap((eni) => eni.cidrs.flatMap((c) => c.addresses.filter((a) => a.pod !== undefined)));
    held.sort((a, b) => podNumber(b.pod) - podNumber(a.pod));
    for (const address of held.slice(0, count)) {
      address.pod = undefined;
      address.unassignedAt = this.now;
    }
  }

  /** Names of the pods holding addresses, in ENI and CIDR order. */
  heldPods(): string[] {
    return this.enis.flatMap((eni) => eni.cidrs.flatMap((c) => c.addresses.flatMap((a) => (a.pod ? [a.pod] : []))));
  }

  deletePod(pod: string): void {
    for (const eni of this.enis) {
      for (const cidr of eni.cidrs) {
        for (const address of cidr.addresses) {
          if (address.pod === pod) {
            address.pod = undefined;
            address.unassignedAt = this.now;
          }
        }
      }
    }
  }

  deletePodsOn(eniId: string, count = Infinity): void {
    let left = count;
    for (const cidr of this.eni(eniId).cidrs) {
      for (const address of cidr.addresses) {
        if (left > 0 && address.pod !== undefined) {
          address.pod = undefined;
          address.unassignedAt = this.now;
          left--;
        }
      }
    }
  }

  advance(ms: number): void {
    this.now += ms;
  }

  podCount(): number {
    return this.enis.reduce(
      (sum, eni) => sum + eni.cidrs.reduce((s, c) => s + c.addresses.filter((a) => a.pod !== undefined).length, 0),
      0,
    );
  }

  summary(): { enis: number; ips: number; prefixes: number; perEni: EniSummary[] } {
    const perEni = this.enis.map((eni) => ({
      id: eni.id,
      ips: eni.cidrs.filter((c) => !c.isPrefix).length,
      prefixes: eni.cidrs.filter((c) => c.isPrefix).length,
      pods: eni.cidrs.reduce((s, c) => s + c.addresses.filter((a) => a.pod !== undefined).length, 0),
    }));
    return {
      enis: this.enis.length,
      ips: perEni.reduce((s, e) => s + e.ips, 0),
      prefixes: perEni.reduce((s, e) => s + e.prefixes, 0),
      perEni,
    };
  }
}

function freeAddress(): SimAddress {
  return { pod: undefined, unassignedAt: undefined };
}

function podNumber(pod: string | undefined): number {
  return Number(pod?.split("-").at(-1) ?? 0);
}
