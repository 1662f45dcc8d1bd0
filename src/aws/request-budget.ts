// One EC2 request budget per agent process, shaped like EC2's own throttling: a token bucket per
// action category with EC2's capacities and refill rates (field-facts §3.4), scaled down because
// EC2's buckets belong to the whole account and Region and every node of every cluster in it draws
// from them. The default fraction, 10%, lets one node burst 10 ENI creations or address assignments
// and sustain one every two seconds: far more than one node's pool needs, while a thousand-node
// scale-out can still not empty the account's buckets on its own for long. A request waits here for
// a token instead of being sent to be refused, so EC2 sees a paced stream, not a burst and retries.
//
// When EC2 throttles anyway (other tenants of the account spent its buckets), the bucket of that
// category slows down multiplicatively (its refill rate halves, down to 1/8) and its tokens are
// taken away, so new calls queue at the slower rate; the throttled call itself retries after a
// jittered exponential backoff. Each success afterwards gives the rate back additively (AIMD, as
// TCP does). An insufficient-address error pauses pool growth for
// 120 s (the reference's pause), which the pool reads through growthPausedUntil().

import { AwsApiError, CODES, isInsufficientAddresses, isThrottle } from "./errors.ts";
import { realScheduler, type Clock } from "../time/scheduler.ts";

export interface BucketSpec {
  capacity: number;
  refillPerSecond: number;
}

/** EC2's buckets (capacity / refill per second) by category; actions listed by name have their own. */
export const EC2_BUCKETS: Readonly<Record<string, BucketSpec>> = {
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
};

/** Describe actions that EC2 charges to the small bucket unless the request filters or pages. */
const EXPENSIVE_UNFILTERED: ReadonlySet<string> = new Set([
  "DescribeInstances",
  "DescribeInstanceStatus",
  "DescribeNetworkInterfaces",
  "DescribeSecurityGroups",
  "DescribeSnapshots",
  "DescribeSpotInstanceRequests",
  "DescribeVolumes",
]);

/**
 * The bucket a request draws from. Naming resource ids is not counted as filtering: EC2's document
 * speaks only of filters and pagination, so we take the smaller bucket when in doubt.
 */
export function bucketFor(api: string, input?: object): string {
  if (Object.hasOwn(EC2_BUCKETS, api)) return api;
  if (/^(Describe|List|Get|Search)/.test(api)) {
    if (!EXPENSIVE_UNFILTERED.has(api)) return "non-mutating";
    const i = (input ?? {}) as { Filters?: unknown[]; MaxResults?: unknown; NextToken?: unknown };
    const filteredOrPaged = (Array.isArray(i.Filters) && i.Filters.length > 0) || i.MaxResults !== undefined || i.NextToken !== undefined;
    return filteredOrPaged ? "non-mutating" : "unfiltered";
  }
  return "mutating";
}

export interface RequestBudgetOptions {
  /** Share of EC2's account-wide buckets this process may use (0 < f ≤ 1). Default 0.1. */
  fraction?: number;
  /** Bucket specs replacing EC2's, before scaling, by bucket name. */
  buckets?: Record<string, BucketSpec>;
  /** Longest a request may wait for a token before failing with BudgetWaitExceeded. Default 30 s. */
  maxWaitMs?: number;
  /** Pool growth pause after an insufficient-address error. Default 120 s (the reference's). */
  growthPauseMs?: number;
  /** Lowest refill factor throttling can push a bucket to. Default 1/8. */
  minRateFactor?: number;
  /** Refill factor given back per successful request. Default 1/16. */
  recoveryStep?: number;
  /** Backoff before retrying a throttled request: base·2^n up to max, jittered. Defaults 250 ms, 20 s. */
  throttleBackoffBaseMs?: number;
  throttleBackoffMaxMs?: number;
  clock?: Clock;
  random?: () => number;
}

export interface BucketState {
  name: string;
  capacity: number;
  refillPerSecond: number; // after scaling and slowdown
  rateFactor: number; // 1 = unslowed
  tokens: number; // negative while requests are queued for tokens
}

interface Bucket {
  tokens: number;
  at: number; // when tokens was brought up to date
  rateFactor: number;
}

export class RequestBudget {
  readonly fraction: number;
  readonly maxWaitMs: number;
  readonly growthPauseMs: number;
  readonly #specs: Record<string, BucketSpec>;
  readonly #minRateFactor: number;
  readonly #recoveryStep: number;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #buckets = new Map<string, Bucket>();
  #growthPausedUntil = 0;
  #growthPauseReason: string | undefined;

  constructor(opts: RequestBudgetOptions = {}) {
    this.fraction = opts.fraction ?? 0.1;
    if (!(this.fraction > 0 && this.fraction <= 1)) throw new RangeError(`request budget fraction must be within (0, 1], got ${this.fraction}`);
    this.maxWaitMs = opts.maxWaitMs ?? 30_000;
    this.growthPauseMs = opts.growthPauseMs ?? 120_000;
    this.#specs = { ...EC2_BUCKETS, ...(opts.buckets ?? {}) };
    this.#minRateFactor = opts.minRateFactor ?? 1 / 8;
    this.#recoveryStep = opts.recoveryStep ?? 1 / 16;
    this.#backoffBaseMs = opts.throttleBackoffBaseMs ?? 250;
    this.#backoffMaxMs = opts.throttleBackoffMaxMs ?? 20_000;
    this.#clock = opts.clock ?? realScheduler;
    this.#random = opts.random ?? Math.random;
  }

  /** The bucket's scaled spec. A capacity below one token would block forever, so it is at least 1. */
  spec(bucket: string): BucketSpec {
    const base = this.#specs[bucket] ?? this.#specs["mutating"] ?? { capacity: 50, refillPerSecond: 5 };
    return { capacity: Math.max(1, base.capacity * this.fraction), refillPerSecond: base.refillPerSecond * this.fraction };
  }

  /**
   * Takes a token for one request now and returns how long the request must wait before it is sent
   * (0 when a token was there). Tokens go negative while requests queue, so waiters are served in
   * the order they came, each at its own time. Throws BudgetWaitExceeded (taking nothing) when the
   * wait would exceed maxWaitMs.
   */
  reserve(api: string, input?: object): number {
    const name = bucketFor(api, input);
    const b = this.#bucket(name);
    const rate = this.spec(name).refillPerSecond * b.rateFactor;
    const delay = b.tokens >= 1 ? 0 : ((1 - b.tokens) / rate) * 1000;
    if (delay > this.maxWaitMs) {
      const queued = Math.max(0, Math.ceil(-b.tokens));
      throw new AwsApiError({
        code: CODES.budgetWait,
        api,
        fn: "budget",
        message:
          `EC2 request budget: ${api} would wait ${(delay / 1000).toFixed(1)} s for a token of bucket '${name}' ` +
          `(${queued} request(s) queued, refill ${rate.toFixed(2)}/s), more than the ${(this.maxWaitMs / 1000).toFixed(1)} s allowed`,
      });
    }
    b.tokens -= 1;
    return delay;
  }

  /** Waits for a token for one request (see reserve). */
  async acquire(api: string, input?: object): Promise<number> {
    const delay = this.reserve(api, input);
    if (delay > 0) await this.#clock.sleep(delay);
    return delay;
  }

  /** Feedback from EC2's answer to one request: undefined code = success. */
  record(api: string, input: object | undefined, code: string | undefined): void {
    const name = bucketFor(api, input);
    const b = this.#bucket(name);
    if (code === undefined) {
      b.rateFactor = Math.min(1, b.rateFactor + this.#recoveryStep);
      return;
    }
    if (isThrottle(code)) {
      // EC2 says its bucket is empty: ours must be too, and refill slower until calls succeed again.
      b.tokens = Math.min(b.tokens, 0);
      b.rateFactor = Math.max(this.#minRateFactor, b.rateFactor / 2);
      return;
    }
    if (isInsufficientAddresses(code)) {
      this.#growthPausedUntil = Math.max(this.#growthPausedUntil, this.#clock.now() + this.growthPauseMs);
      this.#growthPauseReason = code;
    }
  }

  /** How long to back off before retry number `retry` (0 = the first retry) of a throttled request. */
  throttleBackoffMs(retry: number): number {
    const base = Math.min(this.#backoffMaxMs, this.#backoffBaseMs * Math.pow(2, retry));
    // Equal jitter: at least half the delay, so a slowed-down node does not retry at once.
    return base / 2 + (base / 2) * this.#random();
  }

  /** Until when (ms since the epoch) pool growth is paused, or undefined when it is not. */
  growthPausedUntil(): number | undefined {
    return this.#growthPausedUntil > this.#clock.now() ? this.#growthPausedUntil : undefined;
  }

  /** The error code that started the current growth pause. */
  growthPauseReason(): string | undefined {
    return this.growthPausedUntil() === undefined ? undefined : this.#growthPauseReason;
  }

  /** Pauses growth as an insufficient-address error would (e.g. learnt from another path). */
  pauseGrowth(reason: string, ms = this.growthPauseMs): void {
    this.#growthPausedUntil = Math.max(this.#growthPausedUntil, this.#clock.now() + ms);
    this.#growthPauseReason = reason;
  }

  /** Every bucket used so far (the rest are full and unslowed), for introspection and metrics. */
  state(): BucketState[] {
    return [...this.#buckets.keys()].sort().map((name) => {
      const b = this.#bucket(name);
      const s = this.spec(name);
      return { name, capacity: s.capacity, refillPerSecond: s.refillPerSecond * b.rateFactor, rateFactor: b.rateFactor, tokens: b.tokens };
    });
  }

  #bucket(name: string): Bucket {
    const now = this.#clock.now();
    const { capacity, refillPerSecond } = this.spec(name);
    let b = this.#buckets.get(name);
    if (b === undefined) {
      b = { tokens: capacity, at: now, rateFactor: 1 };
      this.#buckets.set(name, b);
    }
    const elapsed = Math.max(0, now - b.at) / 1000;
    b.tokens = Math.min(capacity, b.tokens + elapsed * refillPerSecond * b.rateFactor);
    b.at = now;
    return b;
  }
}
