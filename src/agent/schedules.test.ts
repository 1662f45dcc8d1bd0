import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { publishPoolStats, scheduleLeakedEniCleanup } from "./schedules.ts";
import { Datastore } from "./datastore/datastore.ts";
import type { NodeAgent } from "./node-agent.ts";
import type { AgentMetrics, PoolStatsInput } from "./observability/metrics.ts";
import { VirtualScheduler } from "../time/virtual-scheduler.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe("leaked-ENI clean-up schedule (virtual time)", () => {
  test("the first run within 5 minutes, then hourly plus jitter; a failed run is logged and the schedule goes on; stop ends it", async () => {
    const scheduler = new VirtualScheduler({ start: 0 });
    const jitters = [120_000, 0, 299_999, 60_000];
    const runs: number[] = [];
    const logs: string[] = [];
    const schedule = scheduleLeakedEniCleanup({
      scheduler,
      log: (level, msg) => logs.push(`${level}: ${msg}`),
      jitter: (max) => {
        assert.equal(max, 5 * MINUTE);
        return jitters.shift() ?? 0;
      },
      cleanUp: async () => {
        runs.push(scheduler.now());
        if (runs.length === 2) throw new Error("RequestLimitExceeded");
        return { deleted: runs.length === 3 ? ["eni-1", "eni-2"] : [] };
      },
    });
    await scheduler.advance(4 * HOUR);
    assert.deepEqual(runs, [120_000, 120_000 + HOUR, 120_000 + 2 * HOUR + 299_999, 120_000 + 3 * HOUR + 299_999 + 60_000]);
    assert.deepEqual(logs, ["warn: leaked-ENI clean-up failed: RequestLimitExceeded", "info: leaked-ENI clean-up deleted 2 ENIs"]);
    schedule.stop();
    await scheduler.advance(10 * HOUR);
    assert.equal(runs.length, 4, "no run after stop");
    assert.equal(scheduler.pending, 0);
  });

  test("runs never overlap: a slow run arms the next one only when it is over", async () => {
    const scheduler = new VirtualScheduler({ start: 0 });
    const runs: { start: number; end: number }[] = [];
    const schedule = scheduleLeakedEniCleanup({
      scheduler,
      log: () => undefined,
      jitter: () => 0,
      cleanUp: async () => {
        const start = scheduler.now();
        await scheduler.sleep(2 * HOUR); // EC2 throttling the describe calls for a long time
        runs.push({ start, end: scheduler.now() });
        return { deleted: [] };
      },
    });
    await scheduler.advance(7 * HOUR);
    schedule.stop();
    assert.deepEqual(runs, [
      { start: 0, end: 2 * HOUR },
      { start: 3 * HOUR, end: 5 * HOUR },
    ]);
  });

  test("stop during a run: the run ends, nothing is armed after it", async () => {
    const scheduler = new VirtualScheduler({ start: 0 });
    let runs = 0;
    const schedule = scheduleLeakedEniCleanup({
      scheduler,
      log: () => undefined,
      jitter: () => 1_000,
      cleanUp: async () => {
        runs++;
        schedule.stop(); // SIGTERM while the clean-up is in flight
        await scheduler.sleep(10);
        return { deleted: [] };
      },
    });
    await scheduler.advance(3 * HOUR);
    assert.equal(runs, 1);
    assert.equal(scheduler.pending, 0);
  });
});

describe("pool gauges", () => {
  test("awscni_eni_max and awscni_ip_max follow MAX_ENI and leave out unmanaged ENIs", () => {
    const datastore = new Datastore({ now: () => 0, cooldownMs: 0, prefixDelegation: false });
    let unmanagedEnis = 1;
    const agent = { poolLimits: () => ({ enis: 4, ipv4PerEni: 10, maxPods: 29, unmanagedEnis, reserveTrunkSlot: false }), pool: { waiting: 0 } } as unknown as NodeAgent;
    const seen: PoolStatsInput[] = [];
    const metrics = { poolStats: (s: PoolStatsInput) => seen.push(s) } as unknown as AgentMetrics;
    publishPoolStats(metrics, datastore, agent, 2);
    publishPoolStats(metrics, datastore, agent, null);
    unmanagedEnis = 0; // the unmanaged ENI detached
    publishPoolStats(metrics, datastore, agent, 2);
    publishPoolStats(metrics, datastore, agent, 9);
    assert.deepEqual(seen.map((s) => [s.maxEnis, s.maxIps]), [
      [1, 9],
      [3, 27],
      [2, 18],
      [4, 36],
    ]);
  });
});
