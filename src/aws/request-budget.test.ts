import { test } from "node:test";
import assert from "node:assert/strict";
import { VirtualScheduler } from "../time/virtual-scheduler.ts";
import { AwsApiError } from "./errors.ts";
import { bucketFor, RequestBudget } from "./request-budget.ts";

test("requests are charged to EC2's categories; unfiltered expensive describes to the small bucket", () => {
  assert.equal(bucketFor("AssignPrivateIpAddresses"), "AssignPrivateIpAddresses");
  assert.equal(bucketFor("AttachNetworkInterface"), "mutating");
  assert.equal(bucketFor("DescribeSubnets"), "non-mutating");
  assert.equal(bucketFor("DescribeNetworkInterfaces", { NetworkInterfaceIds: ["eni-1"] }), "unfiltered");
  assert.equal(bucketFor("DescribeNetworkInterfaces", { Filters: [{ Name: "vpc-id", Values: ["v"] }] }), "non-mutating");
  assert.equal(bucketFor("DescribeInstances", { MaxResults: 5 }), "non-mutating");
});

test("buckets are EC2's scaled by the fraction, never below one token", () => {
  const b = new RequestBudget({ fraction: 0.1, clock: new VirtualScheduler() });
  assert.deepEqual(b.spec("AssignPrivateIpAddresses"), { capacity: 10, refillPerSecond: 0.5 });
  assert.deepEqual(b.spec("non-mutating"), { capacity: 10, refillPerSecond: 2 });
  const tiny = new RequestBudget({ fraction: 0.01, clock: new VirtualScheduler() });
  assert.equal(tiny.spec("mutating").capacity, 1);
  assert.throws(() => new RequestBudget({ fraction: 0 }), RangeError);
});

test("a burst takes the bucket's capacity at once, then is paced at the refill rate in arrival order", async () => {
  const clock = new VirtualScheduler();
  const b = new RequestBudget({ fraction: 0.1, clock, maxWaitMs: 60_000 });
  const start = clock.now();
  const sentAt: number[] = [];
  const all = Array.from({ length: 14 }, () => b.acquire("AssignPrivateIpAddresses").then(() => sentAt.push(clock.now() - start)));
  await clock.runUntilIdle();
  await Promise.all(all);
  // 10 tokens, then one every 2 s (0.5/s).
  assert.deepEqual(sentAt, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2000, 4000, 6000, 8000]);
});

test("a wait longer than maxWaitMs fails at once with a clear error and takes no token", async () => {
  const clock = new VirtualScheduler();
  const b = new RequestBudget({ fraction: 0.1, clock, maxWaitMs: 3_000 });
  for (let i = 0; i < 10; i++) assert.equal(b.reserve("CreateNetworkInterface"), 0);
  assert.equal(b.reserve("CreateNetworkInterface"), 2000);
  assert.throws(
    () => b.reserve("CreateNetworkInterface"),
    (err: unknown) => err instanceof AwsApiError && err.code === "BudgetWaitExceeded" && /CreateNetworkInterface would wait 4\.0 s/.test(err.message),
  );
  const tokens = b.state().find((s) => s.name === "CreateNetworkInterface")!.tokens;
  assert.equal(tokens, -1, "the refused request took nothing");
  await clock.advance(4000);
  assert.equal(b.reserve("CreateNetworkInterface"), 0);
});

test("RequestLimitExceeded empties the bucket and halves its rate; successes give it back additively", async () => {
  const clock = new VirtualScheduler();
  const b = new RequestBudget({ fraction: 0.1, clock, maxWaitMs: 600_000, recoveryStep: 0.25 });
  b.record("AttachNetworkInterface", undefined, "RequestLimitExceeded");
  let s = b.state().find((x) => x.name === "mutating")!;
  assert.equal(s.rateFactor, 0.5);
  assert.equal(s.tokens, 0);
  // mutating: 5 tokens, 0.5/s scaled; halved: 0.25/s, so the next token is 4 s away.
  assert.equal(b.reserve("AttachNetworkInterface"), 4000);
  b.record("AttachNetworkInterface", undefined, "RequestLimitExceeded");
  b.record("AttachNetworkInterface", undefined, "RequestLimitExceeded");
  b.record("AttachNetworkInterface", undefined, "RequestLimitExceeded");
  b.record("AttachNetworkInterface", undefined, "RequestLimitExceeded");
  b.record("AttachNetworkInterface", undefined, "RequestLimitExceeded");
  s = b.state().find((x) => x.name === "mutating")!;
  assert.equal(s.rateFactor, 1 / 8, "never below the floor");
  for (let i = 0; i < 3; i++) b.record("AttachNetworkInterface", undefined, undefined);
  assert.equal(b.state().find((x) => x.name === "mutating")!.rateFactor, 1 / 8 + 0.75);
  b.record("AttachNetworkInterface", undefined, undefined);
  assert.equal(b.state().find((x) => x.name === "mutating")!.rateFactor, 1);
  // Other categories are not slowed by this one's throttling.
  assert.equal(b.reserve("DescribeSubnets"), 0);
});

test("the throttle backoff grows exponentially with jitter, bounded", () => {
  let r = 0;
  const b = new RequestBudget({ clock: new VirtualScheduler(), random: () => r, throttleBackoffBaseMs: 200, throttleBackoffMaxMs: 5_000 });
  assert.deepEqual([0, 1, 2, 3, 10].map((n) => b.throttleBackoffMs(n)), [100, 200, 400, 800, 2500]);
  r = 1;
  assert.deepEqual([0, 1, 10].map((n) => b.throttleBackoffMs(n)), [200, 400, 5000]);
});

test("an insufficient-address error pauses growth for the pause period", async () => {
  const clock = new VirtualScheduler();
  const b = new RequestBudget({ clock, growthPauseMs: 120_000 });
  assert.equal(b.growthPausedUntil(), undefined);
  b.record("AssignPrivateIpAddresses", undefined, "InvalidParameterValue");
  assert.equal(b.growthPausedUntil(), undefined);
  b.record("AssignPrivateIpAddresses", undefined, "InsufficientFreeAddressesInSubnet");
  assert.equal(b.growthPausedUntil(), clock.now() + 120_000);
  assert.equal(b.growthPauseReason(), "InsufficientFreeAddressesInSubnet");
  await clock.advance(119_999);
  assert.notEqual(b.growthPausedUntil(), undefined);
  await clock.advance(1);
  assert.equal(b.growthPausedUntil(), undefined);
  b.record("CreateNetworkInterface", undefined, "InsufficientCidrBlocks");
  assert.equal(b.growthPauseReason(), "InsufficientCidrBlocks");
});
