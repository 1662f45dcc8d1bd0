import { test } from "node:test";
import assert from "node:assert/strict";
import { OPTIONAL_POLICY, REQUIRED_POLICY, recheckApiServer, waitForApiServer } from "./api-server-wait.ts";
import { KubeApiError } from "./client.ts";

function fakeClock() {
  let now = 0;
  const slept: number[] = [];
  return { now: () => now, sleep: async (ms: number) => { slept.push(ms); now += ms; }, slept };
}

const down = { version: async () => { throw new KubeApiError("get /version", 0, "ECONNREFUSED", ""); } };

test("without features that need it, start-up gives the API server 30 s, polling every 5 s", async () => {
  const clock = fakeClock();
  const lines: string[] = [];
  const got = await waitForApiServer(down, OPTIONAL_POLICY, { ...clock, log: (l, m) => void lines.push(`${l} ${m}`) });
  assert.equal(got.reachable, false);
  assert.deepEqual(clock.slept, [5_000, 5_000, 5_000, 5_000, 5_000, 5_000]);
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? "", /waits 30 s for it, then goes on without it/);
});

test("with security groups for pods or custom networking it waits until the server answers, polling every 2 s", async () => {
  const clock = fakeClock();
  let failures = 100;
  const client = { version: async () => { if (failures-- > 0) throw new KubeApiError("get /version", 503, "ServiceUnavailable", ""); return { gitVersion: "v1.34.1" }; } };
  const got = await waitForApiServer(client, REQUIRED_POLICY, { ...clock, log: () => undefined });
  assert.deepEqual(got, { reachable: true, version: "v1.34.1" });
  assert.equal(clock.slept.length, 100);
  assert.ok(clock.slept.every((ms) => ms === 2_000));
  const stopped = new AbortController();
  stopped.abort();
  assert.equal((await waitForApiServer(down, REQUIRED_POLICY, { ...clock, log: () => undefined, signal: stopped.signal })).reachable, false);
});

test("after starting without it, the agent re-checks every 5 s and starts what needs the server once", async () => {
  const clock = fakeClock();
  let up = false;
  const reached: string[] = [];
  const client = { version: async () => { if (!up) throw new Error("down"); return { gitVersion: "v1.34.1" }; } };
  let ticks = 0;
  const sleep = async (ms: number) => { await clock.sleep(ms); if (++ticks === 3) up = true; await new Promise((r) => setImmediate(r)); };
  recheckApiServer(client, (v) => reached.push(v), { now: clock.now, sleep, log: () => undefined });
  for (let i = 0; i < 20 && reached.length === 0; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(reached, ["v1.34.1"]);
  assert.deepEqual(clock.slept, [5_000, 5_000, 5_000]);
});
