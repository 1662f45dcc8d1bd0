// The fabric's helpers that need no root: command errors, bounded concurrency, ordering, and the
// address checks that keep inputs from turning into extra batch commands.

import { test } from "node:test";
import assert from "node:assert/strict";
import { CommandError, KeyedSerializer, createLimiter, run } from "./exec.ts";
import { canonicalIpv4, parseCidr, subnetGateway } from "./ipv4.ts";

test("a failing command reports its command line, stderr and the batch line it failed on", async () => {
  const script = "process.stdin.resume(); process.stdin.on('end', () => { process.stderr.write('RTNETLINK answers: File exists\\nCommand failed -:2\\n'); process.exit(2); });";
  const error = await run(process.execPath, ["-e", script], { input: "link set lo up\nroute add 10.0.0.0/8 dev lo\n" }).catch((e: unknown) => e);
  assert.ok(error instanceof CommandError);
  assert.equal(error.exitCode, 2);
  assert.match(error.message, /failed \(exit 2\): RTNETLINK answers: File exists/);
  assert.match(error.message, /in: route add 10\.0\.0\.0\/8 dev lo/);
  await assert.rejects(run("/nonexistent/tool", []), /\/nonexistent\/tool: spawn .*ENOENT/);
});

test("the limiter never runs more than its bound, even as slots pass between tasks", async () => {
  const limit = createLimiter(3);
  let active = 0;
  let peak = 0;
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      limit(async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((resolve) => setTimeout(resolve, i % 3));
        active--;
      }),
    ),
  );
  assert.equal(peak, 3);
});

test("keyed tasks run in call order, and a failure does not block the next", async () => {
  const serial = new KeyedSerializer();
  const order: string[] = [];
  const first = serial.run("eni", async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    order.push("first");
    throw new Error("boom");
  });
  const second = serial.run("eni", async () => order.push("second"));
  const other = serial.run("other", async () => order.push("other"));
  await assert.rejects(first, /boom/);
  await Promise.all([second, other]);
  assert.deepEqual(order, ["other", "first", "second"]);
});

test("addresses are checked for shape before they reach a script", () => {
  assert.equal(canonicalIpv4("10.0.0.1"), "10.0.0.1");
  for (const bad of ["10.0.0.1\nlink del igw", "10.0.0.256", "010.0.0.1", "10.0.0", " 10.0.0.1"]) {
    assert.throws(() => canonicalIpv4(bad), /not an IPv4 address/);
  }
  assert.deepEqual(parseCidr("10.0.16.0/20"), { network: 0x0a001000, prefixLength: 20, size: 4096 });
  assert.throws(() => parseCidr("10.0.0.0/20\nflush ruleset"), /not an IPv4 CIDR/);
  assert.throws(() => parseCidr("10.0.16.1/20"), /host bits set/);
  assert.throws(() => parseCidr("10.0.0.0/33"), /not an IPv4 CIDR/);
  assert.equal(subnetGateway(parseCidr("10.0.16.0/20")), "10.0.16.1");
});
