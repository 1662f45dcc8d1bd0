import { test } from "node:test";
import assert from "node:assert/strict";
import { EventCorrelator, AGGREGATE_MAX_EVENTS, SPAM_BURST, SPAM_REFILL_MS, COMBINED_PREFIX } from "./event-correlator.ts";
import { EventRecorder, type EventSink } from "./event-recorder.ts";
import { KubeClient, KubeApiError } from "./client.ts";
import { FakeApiServer } from "./fake-api-server.test-support.ts";

const pod = { apiVersion: "v1", kind: "Pod", namespace: "kube-system", name: "aws-node-abcde", uid: "u-1" };
const source = { component: "aws-node", host: "node-a" };
const denied = (api: string) => ({ type: "Warning" as const, reason: "MissingIAMPermissions", action: `ec2:${api}`, message: `Unauthorized operation: failed to call ec2:${api} due to missing permissions` });

test("a repeated event is counted on the one already written", () => {
  const c = new EventCorrelator(source);
  const first = c.correlate(pod, denied("AssignPrivateIpAddresses"), 1_000);
  assert.equal(first.write, "create");
  const again = c.correlate(pod, denied("AssignPrivateIpAddresses"), 2_000);
  assert.equal(again.write, "patch");
  if (first.write !== "create" || again.write !== "patch") throw new Error("unreachable");
  assert.equal(again.name, first.name);
  assert.equal(again.count, 2);
  assert.equal(again.firstTimestamp, 1_000);
  assert.equal(again.lastTimestamp, 2_000);
  assert.match(first.name, /^aws-node-abcde\.[0-9a-f]+$/);
  const other = c.correlate(pod, denied("CreateNetworkInterface"), 2_000);
  assert.equal(other.write, "create", "another message is another event");
});

test("more than 10 distinct messages of one reason in 10 minutes become one combined event", () => {
  const c = new EventCorrelator(source);
  const writes = [];
  for (let i = 0; i < AGGREGATE_MAX_EVENTS + 3; i++) writes.push(c.correlate(pod, { type: "Warning", reason: "InsufficientFreeAddressesInSubnet", message: `subnet-${i} is out of addresses` }, 1_000 + i));
  const creates = writes.filter((w) => w.write === "create");
  assert.equal(creates.length, AGGREGATE_MAX_EVENTS + 1, "10 distinct, then one combined");
  const combined = writes.slice(AGGREGATE_MAX_EVENTS);
  assert.ok(combined.every((w) => w.write !== "skip" && w.message.startsWith(COMBINED_PREFIX)));
  assert.deepEqual(combined.map((w) => (w.write === "skip" ? 0 : w.count)), [1, 2, 3]);
  // After the interval the messages count afresh.
  const later = c.correlate(pod, { type: "Warning", reason: "InsufficientFreeAddressesInSubnet", message: "subnet-0 is out of addresses" }, 1_000 + 700_000);
  assert.ok(later.write !== "skip" && !later.message.startsWith(COMBINED_PREFIX));
});

test("the spam filter lets 25 events through per object, then one per 5 minutes", () => {
  const c = new EventCorrelator(source);
  let written = 0;
  for (let i = 0; i < 40; i++) if (c.correlate(pod, denied("DescribeNetworkInterfaces"), 1_000).write !== "skip") written++;
  assert.equal(written, SPAM_BURST);
  assert.equal(c.correlate(pod, denied("DescribeNetworkInterfaces"), 1_000 + SPAM_REFILL_MS / 2).write, "skip");
  assert.notEqual(c.correlate(pod, denied("DescribeNetworkInterfaces"), 1_000 + SPAM_REFILL_MS).write, "skip");
  const otherPod = { ...pod, name: "aws-node-fghij", uid: "u-2" };
  assert.notEqual(c.correlate(otherPod, denied("DescribeNetworkInterfaces"), 1_000).write, "skip", "buckets are per object");
});

test("the recorder writes core v1 events on its pod and counts repeats with a patch", async () => {
  const server = new FakeApiServer();
  await server.start();
  try {
    const client = new KubeClient(server.kubeConfig(), { userAgent: "test" });
    let now = Date.parse("2026-01-02T03:04:05Z");
    const recorder = new EventRecorder({ sink: client, source, involved: () => pod, log: () => undefined, now: () => now });
    recorder.record(denied("AttachNetworkInterface"));
    now += 1000;
    recorder.record(denied("AttachNetworkInterface"));
    await recorder.flush();
    const events = server.all("events");
    assert.equal(events.length, 1);
    const e = events[0] as Record<string, any>;
    assert.equal(e.metadata.namespace, "kube-system");
    assert.deepEqual(e.involvedObject, { apiVersion: "v1", kind: "Pod", namespace: "kube-system", name: "aws-node-abcde", uid: "u-1" });
    assert.equal(e.reason, "MissingIAMPermissions");
    assert.equal(e.type, "Warning");
    assert.equal(e.action, "ec2:AttachNetworkInterface");
    assert.deepEqual(e.source, source);
    assert.equal(e.reportingComponent, "aws-node");
    assert.equal(e.count, 2);
    assert.equal(e.firstTimestamp, "2026-01-02T03:04:05.000Z");
    assert.equal(e.lastTimestamp, "2026-01-02T03:04:06.000Z");
    assert.deepEqual(server.requests.map((r) => r.call), ["create events", "patch events"]);
    // The event expired on the server: the next repeat creates it anew.
    server.remove("events", e.metadata.name, "kube-system");
    recorder.record(denied("AttachNetworkInterface"));
    await recorder.flush();
    assert.equal(server.all("events").length, 1);
  } finally {
    await server.stop();
  }
});

test("while the API server is away the recorder retries, bounded, and never throws to its caller", async () => {
  const calls: string[] = [];
  let failures = 3;
  const sink: EventSink = {
    createEvent: async (_ns, e) => {
      calls.push("create");
      if (failures-- > 0) throw new KubeApiError("create events", 0, "ECONNREFUSED", "");
      return e;
    },
    patchEvent: async () => {
      throw new Error("unexpected");
    },
  };
  const slept: number[] = [];
  const lines: string[] = [];
  const recorder = new EventRecorder({ sink, source, involved: () => pod, log: (l, m) => void lines.push(`${l} ${m}`), sleep: async (ms) => void slept.push(ms), tries: 12, retryMs: 10_000 });
  recorder.record(denied("DeleteNetworkInterface"));
  await recorder.flush();
  assert.deepEqual(calls, ["create", "create", "create", "create"]);
  assert.deepEqual(slept, [10_000, 10_000, 10_000]);

  // A refusal is not retried; it is logged as an error naming the missing rule.
  const refusing: EventSink = { createEvent: async () => { throw new KubeApiError("create events", 403, "Forbidden", "cannot create events"); }, patchEvent: async () => { throw new Error("unexpected"); } };
  const r2 = new EventRecorder({ sink: refusing, source, involved: () => pod, log: (l, m) => void lines.push(`${l} ${m}`), sleep: async (ms) => void slept.push(ms) });
  r2.record(denied("DeleteNetworkInterface"));
  await r2.flush();
  assert.equal(slept.length, 3);
  assert.ok(lines.some((l) => /^error event MissingIAMPermissions not written: .*403 Forbidden.*ClusterRole aws-node/.test(l)), lines.join("\n"));

  // Without an API server events are only logged.
  const r3 = new EventRecorder({ sink: null, source, involved: () => pod, log: (l, m) => void lines.push(`${l} ${m}`) });
  r3.record(denied("CreateTags"));
  await r3.flush();
  assert.ok(lines.some((l) => l.startsWith("warn event MissingIAMPermissions: Unauthorized operation: failed to call ec2:CreateTags")));
});

test("closing the recorder ends retries at once (SIGTERM does not wait for the API server)", async () => {
  const sink: EventSink = {
    createEvent: async () => { throw new KubeApiError("create events", 0, "ECONNREFUSED", ""); },
    patchEvent: async () => { throw new Error("unexpected"); },
  };
  const lines: string[] = [];
  const recorder = new EventRecorder({ sink, source, involved: () => pod, log: (l, m) => void lines.push(`${l} ${m}`), retryMs: 3_600_000 });
  recorder.record(denied("CreateTags"));
  recorder.record(denied("DeleteNetworkInterface"));
  await new Promise((r) => setTimeout(r, 20));
  const started = process.hrtime.bigint();
  await recorder.close();
  assert.ok(process.hrtime.bigint() - started < 5_000_000_000n, "closed without waiting out the retry");
  assert.ok(lines.some((l) => /not written \(shutting down\)/.test(l)), lines.join("\n"));
  recorder.record(denied("CreateTags"));
  await recorder.flush();
});
