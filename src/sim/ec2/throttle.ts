// EC2's request throttling: token buckets per account and Region, one per action category, with
// the sizes and refill rates EC2 documents ("Request throttling for the Amazon EC2 API"). A
// request takes one token from its bucket; an empty bucket is RequestLimitExceeded (HTTP 503).
//
// Categories (bucket name → capacity / refill per second):
//   non-mutating          100 / 20  Describe* not listed below
//   unfiltered            50 / 10   DescribeInstances, DescribeNetworkInterfaces, DescribeSecurityGroups
//                                   with no Filter.N, no MaxResults/NextToken and no resource ids
//                                   (naming ids narrows the result, so we count it as filtered)
//   mutating              50 / 5    every other action (AttachNetworkInterface, DetachNetworkInterface,
//                                   UnassignIpv6Addresses, ...)
//   <action>              own bucket for AssignPrivateIpAddresses, UnassignPrivateIpAddresses,
//                                   AssignIpv6Addresses, CreateNetworkInterface, DeleteNetworkInterface,
//                                   ModifyNetworkInterfaceAttribute (100 / 5), CreateTags and DeleteTags
//                                   (100 / 10 each), RunInstances (5 / 2), TerminateInstances (100 / 5).
// RunInstances' and TerminateInstances' second (per-instance "resource") buckets are not modelled:
// vpcsim launches and terminates one instance per request, far below them.

import { Ec2Error } from "./types.ts";

export interface BucketSpec {
  capacity: number;
  refillPerSecond: number;
}

export const DEFAULT_BUCKETS: Readonly<Record<string, BucketSpec>> = {
  "non-mutating": { capacity: 100, refillPerSecond: 20 },
  unfiltered: { capacity: 50, refillPerSecond: 10 },
  mutating: { capacity: 50, refillPerSecond: 5 },
  AssignPrivateIpAddresses: { capacity: 100, refillPerSecond: 5 },
  UnassignPrivateIpAddresses: { capacity: 100, refillPerSecond: 5 },
  AssignIpv6Addresses: { capacity: 100, refillPerSecond: 5 },
  CreateNetworkInterface: { capacity: 100, refillPerSecond: 5 },
  DeleteNetworkInterface: { capacity: 100, refillPerSecond: 5 },
  ModifyNetworkInterfaceAttribute: { capacity: 100, refillPerSecond: 5 },
  CreateTags: { capacity: 100, refillPerSecond: 10 },
  DeleteTags: { capacity: 100, refillPerSecond: 10 },
  RunInstances: { capacity: 5, refillPerSecond: 2 },
  TerminateInstances: { capacity: 100, refillPerSecond: 5 },
};

const UNFILTERED_EXPENSIVE: ReadonlySet<string> = new Set(["DescribeInstances", "DescribeNetworkInterfaces", "DescribeSecurityGroups"]);

/** The bucket an action's request draws from. `filteredOrPaged` matters only for Describe*. */
export function bucketFor(action: string, filteredOrPaged: boolean): string {
  if (Object.hasOwn(DEFAULT_BUCKETS, action)) return action;
  if (/^(Describe|List|Get|Search)/.test(action)) {
    return UNFILTERED_EXPENSIVE.has(action) && !filteredOrPaged ? "unfiltered" : "non-mutating";
  }
  return "mutating";
}

export interface ThrottleConfig {
  enabled: boolean;
  /** Multiplies every capacity and refill rate (0.1 = a tenth of EC2's limits). */
  scale: number;
  /** Replaces a bucket's spec (before scaling); the key is a bucket name as in DEFAULT_BUCKETS. */
  overrides: Record<string, BucketSpec>;
}

export interface BucketState extends BucketSpec {
  name: string;
  tokens: number;
}

export function requestLimitExceeded(): Ec2Error {
  return new Ec2Error("RequestLimitExceeded", "Request limit exceeded.", 503);
}

interface Bucket {
  tokens: number;
  at: number; // when `tokens` was last brought up to date
}

export class Throttle {
  readonly #now: () => number;
  #config: ThrottleConfig;
  readonly #buckets = new Map<string, Bucket>();

  constructor(opts: Partial<ThrottleConfig> & { clock?: { now(): number } } = {}) {
    const clock = opts.clock;
    this.#now = clock === undefined ? Date.now : () => clock.now();
    this.#config = { enabled: opts.enabled ?? true, scale: opts.scale ?? 1, overrides: { ...(opts.overrides ?? {}) } };
  }

  get config(): ThrottleConfig {
    return { ...this.#config, overrides: { ...this.#config.overrides } };
  }

  /** Changes the configuration; buckets keep their fill level, clipped to any new capacity. */
  configure(change: Partial<ThrottleConfig>): void {
    const next: ThrottleConfig = {
      enabled: change.enabled ?? this.#config.enabled,
      scale: change.scale ?? this.#config.scale,
      overrides: change.overrides === undefined ? this.#config.overrides : { ...change.overrides },
    };
    // Refuse before changing anything: a rejected change must not leave a bad scale behind.
    if (!(typeof next.scale === "number" && Number.isFinite(next.scale) && next.scale > 0)) throw new RangeError("throttle scale must be > 0");
    this.#config = next;
  }

  spec(bucket: string): BucketSpec {
    const base = this.#config.overrides[bucket] ?? DEFAULT_BUCKETS[bucket] ?? DEFAULT_BUCKETS["mutating"]!;
    return { capacity: base.capacity * this.#config.scale, refillPerSecond: base.refillPerSecond * this.#config.scale };
  }

  /** Takes a token for `action`; returns the bucket name, or throws RequestLimitExceeded. */
  take(action: string, filteredOrPaged = true): string {
    const name = bucketFor(action, filteredOrPaged);
    if (!this.#config.enabled) return name;
    const b = this.#refill(name);
    if (b.tokens < 1) throw requestLimitExceeded();
    b.tokens -= 1;
    return name;
  }

  /** Current fill of every bucket touched so far (others are full). */
  state(): BucketState[] {
    return [...this.#buckets.keys()].sort().map((name) => ({ name, ...this.spec(name), tokens: this.#refill(name).tokens }));
  }

  /** Refills every bucket. */
  reset(): void {
    this.#buckets.clear();
  }

  #refill(name: string): Bucket {
    const now = this.#now();
    const { capacity, refillPerSecond } = this.spec(name);
    let b = this.#buckets.get(name);
    if (b === undefined) {
      b = { tokens: capacity, at: now };
      this.#buckets.set(name, b);
    }
    const elapsed = Math.max(0, now - b.at) / 1000;
    b.tokens = Math.min(capacity, b.tokens + elapsed * refillPerSecond);
    b.at = now;
    return b;
  }
}
