// Bounded retries with jittered exponential backoff. The shape is the reference's SimpleBackoff
// (delay = min(max, min·multiplier^n), plus up to `jitter`·delay, never minus), so the agent keeps its
// pacing where the reference documents it; jitter keeps many nodes from retrying in lock-step.

import type { Clock } from "../time/scheduler.ts";

export interface Backoff {
  minMs: number;
  maxMs: number;
  multiplier: number;
  jitter: number; // fraction of the delay added at random, 0..1
  attempts: number; // tries in all, the first one included
}

/** The delay before try number `retry + 1` (retry = 0 after the first failure). */
export function backoffDelay(b: Backoff, retry: number, random: () => number = Math.random): number {
  const base = Math.min(b.maxMs, b.minMs * Math.pow(b.multiplier, retry));
  return base + base * b.jitter * random();
}

/** The reference's backoffs (reference §4.3, §4.6). */
export const DETACH_BACKOFF: Backoff = { minMs: 200, maxMs: 60_000, multiplier: 2, jitter: 0.15, attempts: 12 };
export const DELETE_BACKOFF: Backoff = { minMs: 500, maxMs: 60_000, multiplier: 2, jitter: 0.15, attempts: 12 };
export const TAG_BACKOFF: Backoff = { minMs: 500, maxMs: 60_000, multiplier: 2, jitter: 0.3, attempts: 5 };

export interface RetryOptions {
  clock: Clock;
  random?: () => number;
  /** false stops retrying and rethrows the error at once. */
  retryable?: (err: unknown) => boolean;
  onRetry?: (err: unknown, retry: number, delayMs: number) => void;
}

/** Runs `attempt` until it resolves, at most `b.attempts` times; rethrows the last error. */
export async function withBackoff<T>(b: Backoff, opts: RetryOptions, attempt: (n: number) => Promise<T>): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (n + 1 >= b.attempts || (opts.retryable !== undefined && !opts.retryable(err))) throw err;
      const delay = backoffDelay(b, n, opts.random);
      opts.onRetry?.(err, n, delay);
      await opts.clock.sleep(delay);
    }
  }
}
