// Test support for the EC2 model's unit tests, and for tests of what follows the model (IMDS, the
// fabric's sync): a manual virtual clock, a seeded random source, an assertion for EC2 errors, and
// a small world (VPC, subnets, instance) to start from. Only tests import it; nothing ships it.

import assert from "node:assert/strict";
import type { Clock, WorldEvent } from "./types.ts";
import { Ec2Error } from "./types.ts";
import { Ec2Model } from "./model.ts";
import { loadInstanceTypes } from "./instance-types.ts";
import { formatCidr6, parseCidr6, subnetOf6, type Cidr6 } from "../ipv6.ts";

/** A clock that only moves when told to; timers run in due order (ties in scheduling order). */
export class ManualClock implements Clock {
  #now: number;
  #timers: { at: number; order: number; fn: () => void }[] = [];
  #order = 0;

  constructor(start = Date.UTC(2025, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  after(ms: number, fn: () => void): void {
    this.#timers.push({ at: this.#now + ms, order: this.#order++, fn });
  }

  get pending(): number {
    return this.#timers.length;
  }

  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at || a.order - b.order);
      const next = this.#timers[0];
      if (!next || next.at > until) break;
      this.#timers.shift();
      this.#now = next.at;
      next.fn();
    }
    this.#now = until;
  }
}

/** mulberry32: a small seeded PRNG so tests are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function expectEc2Error(fn: () => unknown, code: string, message?: RegExp): Ec2Error {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof Ec2Error, `expected Ec2Error ${code}, got ${caught === undefined ? "no error" : String(caught)}`);
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code}: ${caught.message}`);
  if (message) assert.match(caught.message, message);
  return caught;
}

const instanceTypes = loadInstanceTypes();

export const ACCOUNT = "111122223333";
export const REGION = "us-east-1";

export interface TestWorld {
  model: Ec2Model;
  clock: ManualClock;
  events: WorldEvent[];
  timings: { attachMs: number; detachMs: number };
  vpcId: string;
  subnetId: string; // 10.0.1.0/24 in us-east-1a, with IPv6
  subnetBId: string; // 10.0.2.0/24 in us-east-1b, IPv4 only
  instanceId: string; // m5.large in subnetId, primary address 10.0.1.10
}

export function makeWorld(seed = 1): TestWorld {
  const clock = new ManualClock();
  const events: WorldEvent[] = [];
  const timings = { attachMs: 1000, detachMs: 2000 };
  const model = new Ec2Model({
    clock,
    timings,
    instanceTypes,
    accountId: ACCOUNT,
    region: REGION,
    onEvent: (e) => events.push(e),
    random: seededRandom(seed),
  });
  const vpc = model.createVpc({ cidrBlock: "10.0.0.0/16", ipv6: true });
  const v6base = subnet64(vpc.ipv6CidrBlocks[0] as string, 1);
  const subnet = model.createSubnet({ vpcId: vpc.vpcId, cidrBlock: "10.0.1.0/24", availabilityZone: "us-east-1a", ipv6CidrBlock: v6base });
  const subnetB = model.createSubnet({ vpcId: vpc.vpcId, cidrBlock: "10.0.2.0/24", availabilityZone: "us-east-1b" });
  const instance = model.runInstance({ instanceType: "m5.large", subnetId: subnet.subnetId, privateIpAddress: "10.0.1.10" });
  events.length = 0;
  return {
    model,
    clock,
    events,
    timings,
    vpcId: vpc.vpcId,
    subnetId: subnet.subnetId,
    subnetBId: subnetB.subnetId,
    instanceId: instance.instanceId,
  };
}

/** The `index`th /64 of a VPC's /56 (as the console numbers them, from 0). */
export function subnet64(vpc56: string, index: number): string {
  return formatCidr6(subnetOf6(parseCidr6(vpc56) as Cidr6, 64, index));
}
