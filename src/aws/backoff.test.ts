import { test } from "node:test";
import assert from "node:assert/strict";
import { backoffDelay, DETACH_BACKOFF, withBackoff } from "./backoff.ts";
import { VirtualScheduler } from "../time/virtual-scheduler.ts";

test("the reference's SimpleBackoff: min·mult^n capped at max, jitter only added", () => {
  assert.deepEqual([0, 1, 2, 20].map((n) => backoffDelay(DETACH_BACKOFF, n, () => 0)), [200, 400, 800, 60_000]);
  assert.equal(backoffDelay(DETACH_BACKOFF, 0, () => 1), 230);
});

test("withBackoff makes at most `attempts` tries and stops at once on a non-retryable error", async () => {
  const clock = new VirtualScheduler();
  let tries = 0;
  const p = withBackoff({ minMs: 100, maxMs: 1000, multiplier: 2, jitter: 0, attempts: 4 }, { clock }, async () => {
    tries++;
    throw new Error("nope");
  });
  const rejected = assert.rejects(p, /nope/);
  assert.equal(await clock.runUntilIdle(), 100 + 200 + 400);
  await rejected;
  assert.equal(tries, 4);
  tries = 0;
  await assert.rejects(
    withBackoff(DETACH_BACKOFF, { clock, retryable: () => false }, async () => {
      tries++;
      throw new Error("permanent");
    }),
  );
  assert.equal(tries, 1);
});
