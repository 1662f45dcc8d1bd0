import { test } from "node:test";
import assert from "node:assert/strict";
import { VirtualScheduler } from "../time/virtual-scheduler.ts";
import { AwsApiError } from "./errors.ts";
import type { ImdsEni } from "./imds.ts";
import { waitForEniInImds } from "./wait-for-eni.ts";

/** An IMDS whose view of one ENI changes at given (virtual) times. */
function laggingImds(clock: VirtualScheduler, showsAt: number, ips: { at: number; ipv4s: string[] }[]) {
  let reads = 0;
  const start = clock.now();
  return {
    get reads() {
      return reads;
    },
    macs: async () => {
      reads++;
      return clock.now() - start >= showsAt ? ["02:00:00:00:00:01", "02:00:00:00:00:aa"] : ["02:00:00:00:00:01"];
    },
    eni: async (mac: string): Promise<ImdsEni> => {
      reads++;
      const view = [...ips].reverse().find((v) => clock.now() - start >= v.at)!;
      return { mac, eniId: "eni-x", deviceNumber: 1, networkCard: 0, primary: false, subnetId: "s", subnetCidr: "10.0.0.0/20", vpcId: "v", ipv4s: view.ipv4s, ipv4Prefixes: [], securityGroupIds: [], vpcIpv4Cidrs: [] };
    },
  };
}

test("polls fast at first: an ENI that shows after 300 ms is seen within ~100 ms of it", async () => {
  const clock = new VirtualScheduler();
  const imds = laggingImds(clock, 300, [{ at: 0, ipv4s: ["10.0.0.5", "10.0.0.6"] }]);
  const p = waitForEniInImds(imds, "02:00:00:00:00:AA", 1, 0, { clock, random: () => 0 });
  const took = await clock.runUntilIdle();
  const eni = await p;
  assert.equal(eni.eniId, "eni-x");
  assert.ok(took >= 300 && took <= 400, `took ${took} ms`);
});

test("waits for the wanted addresses (by count or by value), then returns", async () => {
  const clock = new VirtualScheduler();
  const imds = laggingImds(clock, 0, [
    { at: 0, ipv4s: ["10.0.0.5"] },
    { at: 5_000, ipv4s: ["10.0.0.5", "10.0.0.7"] },
  ]);
  const p = waitForEniInImds(imds, "02:00:00:00:00:aa", ["10.0.0.7"], 0, { clock, random: () => 0 });
  const took = await clock.runUntilIdle();
  assert.deepEqual((await p).ipv4s, ["10.0.0.5", "10.0.0.7"]);
  assert.ok(took >= 5_000 && took <= 7_000, `took ${took} ms (backed off to at most 2 s)`);
  assert.ok(imds.reads < 60, `IMDS reads bounded (${imds.reads})`);
});

test("out of time: what IMDS shows when the ENI is there but short; an error when it never showed", async () => {
  const clock = new VirtualScheduler();
  const short = waitForEniInImds(laggingImds(clock, 0, [{ at: 0, ipv4s: ["10.0.0.5"] }]), "02:00:00:00:00:aa", 3, 0, { clock, timeoutMs: 10_000 });
  await clock.runUntilIdle();
  assert.deepEqual((await short).ipv4s, ["10.0.0.5"]);
  const never = waitForEniInImds(laggingImds(clock, 1e9, [{ at: 0, ipv4s: [] }]), "02:00:00:00:00:aa", 0, 0, { clock, timeoutMs: 10_000 });
  const rejected = assert.rejects(never, (err: unknown) => err instanceof AwsApiError && err.code === "EniNotInImds");
  const took = await clock.runUntilIdle();
  await rejected;
  assert.ok(took <= 10_000);
});
