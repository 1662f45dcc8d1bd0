import { test } from "node:test";
import assert from "node:assert/strict";
import { AssignPrivateIpAddressesCommand, DescribeSubnetsCommand } from "@aws-sdk/client-ec2";
import { VirtualScheduler } from "../time/virtual-scheduler.ts";
import { actionOf, ec2Call, ec2Context, type Ec2CallEvent } from "./ec2-client.ts";
import { AwsApiError } from "./errors.ts";
import { RequestBudget } from "./request-budget.ts";

/** An SDK-shaped error as @aws-sdk/client-ec2 throws it. */
function sdkError(code: string, status: number): Error {
  return Object.assign(new Error(`${code} message`), { name: code, $fault: status >= 500 ? "server" : "client", $metadata: { httpStatusCode: status } });
}

function fakeClient(answers: (() => unknown)[]) {
  const sent: string[] = [];
  return {
    sent,
    send: async (command: object) => {
      sent.push(actionOf(command));
      const next = answers.shift();
      if (next === undefined) throw new Error("no more answers");
      return next();
    },
  };
}

test("the action name is read off the SDK command", () => {
  assert.equal(actionOf(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: "eni-1" })), "AssignPrivateIpAddresses");
});

test("throttled requests are retried after the budget's backoff, and every try is observed", async () => {
  const clock = new VirtualScheduler();
  const throttle = () => {
    throw sdkError("RequestLimitExceeded", 503);
  };
  const client = fakeClient([throttle, throttle, throttle, () => ({ AssignedPrivateIpAddresses: [{ PrivateIpAddress: "10.0.0.9" }], $metadata: { httpStatusCode: 200 } })]);
  const events: Ec2CallEvent[] = [];
  const budget = new RequestBudget({ clock, random: () => 0.5 });
  const ec2 = ec2Context(client, budget, { clock, observer: { onCall: (e) => events.push(e) }, random: () => 0.5 });
  const p = ec2Call(ec2, "allocIPAddresses", new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: "eni-1", SecondaryPrivateIpAddressCount: 1 }));
  const took = await clock.runUntilIdle();
  const out = await p;
  assert.equal(out.AssignedPrivateIpAddresses?.[0]?.PrivateIpAddress, "10.0.0.9");
  assert.equal(client.sent.length, 4);
  assert.deepEqual(events.map((e) => [e.attempt, e.ok, e.errorCode, e.httpStatus]), [
    [1, false, "RequestLimitExceeded", 503],
    [2, false, "RequestLimitExceeded", 503],
    [3, false, "RequestLimitExceeded", 503],
    [4, true, undefined, 200],
  ]);
  assert.ok(events.every((e) => e.api === "AssignPrivateIpAddresses" && e.fn === "allocIPAddresses"));
  // The retries waited their backoffs (0.75 of 250, 500, 1000 ms with random 0.5), not for tokens.
  assert.equal(took, 1312.5);
  assert.ok(events.every((e) => e.budgetWaitMs === 0));
  // Three halvings, one additive step back: new calls are paced slower from now on.
  const s = budget.state().find((x) => x.name === "AssignPrivateIpAddresses")!;
  assert.equal(s.rateFactor, 1 / 8 + 1 / 16);
  // The bucket was emptied by the throttles: the next new call waits for a token at the slowed rate.
  const wait = budget.reserve("AssignPrivateIpAddresses");
  assert.ok(wait > 5_000, `waits ${wait} ms`);
});

test("a non-transient error is not retried and carries EC2's code, the api and the function", async () => {
  const clock = new VirtualScheduler();
  const client = fakeClient([
    () => {
      throw sdkError("InsufficientFreeAddressesInSubnet", 400);
    },
  ]);
  const budget = new RequestBudget({ clock });
  const ec2 = ec2Context(client, budget, { clock });
  await assert.rejects(
    ec2Call(ec2, "allocIPAddresses", new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: "eni-1", SecondaryPrivateIpAddressCount: 1 })),
    (err: unknown) => err instanceof AwsApiError && err.code === "InsufficientFreeAddressesInSubnet" && err.api === "AssignPrivateIpAddresses" && err.fn === "allocIPAddresses" && err.httpStatus === 400,
  );
  assert.equal(client.sent.length, 1);
  assert.equal(budget.growthPausedUntil(), clock.now() + 120_000);
});

test("5xx and timeouts are retried up to maxAttempts, then fail with the last code", async () => {
  const clock = new VirtualScheduler();
  const fail = () => {
    throw sdkError("Unavailable", 503);
  };
  const timeout = () => {
    throw Object.assign(new Error("socket timed out"), { name: "TimeoutError" });
  };
  const client = fakeClient([fail, timeout, fail]);
  const ec2 = ec2Context(client, new RequestBudget({ clock }), { clock, maxAttempts: 3 });
  const p = ec2Call(ec2, "describeSubnets", new DescribeSubnetsCommand({}));
  const rejected = assert.rejects(p, (err: unknown) => err instanceof AwsApiError && err.code === "Unavailable" && /after 3 attempts/.test(err.message));
  await clock.runUntilIdle();
  await rejected;
  assert.equal(client.sent.length, 3);
});

test("a request the budget cannot serve in time never reaches EC2", async () => {
  const clock = new VirtualScheduler();
  const client = fakeClient([]);
  const budget = new RequestBudget({ clock, maxWaitMs: 1000, buckets: { "non-mutating": { capacity: 0, refillPerSecond: 0.001 } } });
  const ec2 = ec2Context(client, budget, { clock });
  // capacity is raised to one token: the first request passes the budget (and fails on our empty fake).
  await assert.rejects(ec2Call(ec2, "describeSubnets", new DescribeSubnetsCommand({})));
  await assert.rejects(ec2Call(ec2, "describeSubnets", new DescribeSubnetsCommand({})), (err: unknown) => err instanceof AwsApiError && err.code === "BudgetWaitExceeded");
  assert.equal(client.sent.length, 1);
});
