// The endpoint's parts on their own: token buckets on a manual clock, fault rolls, the call-log
// ring, credentials and the SigV4 verifier.

import { test } from "node:test";
import assert from "node:assert/strict";
import { CallLog, loggableParams } from "./call-log.ts";
import { CredentialStore } from "./credentials.ts";
import { Faults } from "./faults.ts";
import { signV4, verifySigV4, type SignableRequest } from "./sigv4.ts";
import { bucketFor, Throttle } from "./throttle.ts";
import { escapeXml, element, errorXml } from "./xml.ts";

function manualClock(start = 1_700_000_000_000): { now(): number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

test("buckets: EC2's categories", () => {
  assert.equal(bucketFor("DescribeVpcs", false), "non-mutating");
  assert.equal(bucketFor("DescribeNetworkInterfaces", false), "unfiltered");
  assert.equal(bucketFor("DescribeInstances", true), "non-mutating");
  assert.equal(bucketFor("AttachNetworkInterface", true), "mutating");
  assert.equal(bucketFor("UnassignIpv6Addresses", true), "mutating");
  assert.equal(bucketFor("AssignPrivateIpAddresses", true), "AssignPrivateIpAddresses");
  assert.equal(bucketFor("RunInstances", true), "RunInstances");
});

test("a bucket empties, refuses, and refills at its rate", () => {
  const clock = manualClock();
  const t = new Throttle({ clock });
  for (let i = 0; i < 5; i++) t.take("RunInstances");
  assert.throws(() => t.take("RunInstances"), { code: "RequestLimitExceeded", status: 503, message: "Request limit exceeded." });
  clock.advance(499); // 2/s: just short of one token
  assert.throws(() => t.take("RunInstances"), { code: "RequestLimitExceeded" });
  clock.advance(1);
  t.take("RunInstances");
  assert.throws(() => t.take("RunInstances"));
  clock.advance(60_000); // refills to capacity, not beyond
  for (let i = 0; i < 5; i++) t.take("RunInstances");
  assert.throws(() => t.take("RunInstances"));
  // other buckets are independent
  t.take("CreateNetworkInterface");
});

test("throttle scale, overrides and switching off", () => {
  const clock = manualClock();
  const t = new Throttle({ clock, scale: 0.1, overrides: { CreateTags: { capacity: 2, refillPerSecond: 1 } } });
  assert.deepEqual(t.spec("non-mutating"), { capacity: 10, refillPerSecond: 2 });
  assert.deepEqual(t.spec("CreateTags"), { capacity: 0.2, refillPerSecond: 0.1 });
  t.configure({ scale: 1 });
  t.take("CreateTags");
  t.take("CreateTags");
  assert.throws(() => t.take("CreateTags"));
  t.configure({ enabled: false });
  for (let i = 0; i < 10; i++) t.take("CreateTags");
  assert.equal(t.state().find((b) => b.name === "CreateTags")?.capacity, 2);
});

test("faults: counts run out, probabilities roll, first failure wins, latencies add", () => {
  const rolls = [0.9, 0.1];
  const f = new Faults({ random: () => rolls.shift() ?? 0 });
  const a = f.add({ action: "AttachNetworkInterface", kind: "error", count: 2 });
  f.add({ action: "*", kind: "latency", ms: 30 });
  f.add({ action: "*", kind: "latency", ms: 20, count: 1 });
  assert.deepEqual(f.decide("AttachNetworkInterface"), { latencyMs: 50, fail: { kind: "error", code: "InternalError", status: 500 } });
  assert.deepEqual(f.decide("AttachNetworkInterface"), { latencyMs: 30, fail: { kind: "error", code: "InternalError", status: 500 } });
  assert.deepEqual(f.decide("AttachNetworkInterface"), { latencyMs: 30 });
  assert.equal(f.list().some((x) => x.id === a.id), false);
  f.clear();
  f.add({ action: "DescribeVpcs", kind: "throttle", probability: 0.5 });
  assert.deepEqual(f.decide("DescribeVpcs"), { latencyMs: 0 }); // rolled 0.9
  assert.deepEqual(f.decide("DescribeVpcs"), { latencyMs: 0, fail: { kind: "throttle" } }); // rolled 0.1
  assert.deepEqual(f.decide("DescribeSubnets"), { latencyMs: 0 });
  assert.throws(() => f.add({ action: "*", kind: "error", probability: 2 }), RangeError);
  assert.throws(() => f.add({ action: "*", kind: "nope" as "error" }), RangeError);
  assert.equal(f.remove(f.list()[0]?.id ?? -1), true);
  assert.equal(f.list().length, 0);
});

test("call log: a bounded ring with queries and counts", () => {
  const log = new CallLog({ capacity: 3 });
  const base = { requestId: "r", params: {}, status: 200, latencyMs: 1 };
  log.record({ ...base, time: 1, action: "A", outcome: "ok" });
  log.record({ ...base, time: 2, action: "B", outcome: "RequestLimitExceeded", status: 503 });
  log.record({ ...base, time: 3, action: "A", outcome: "ok", principal: "i-1" });
  log.record({ ...base, time: 4, action: "A", outcome: "InternalError", status: 500 });
  assert.equal(log.size, 3);
  assert.deepEqual(log.query().map((r) => [r.seq, r.time]), [[2, 2], [3, 3], [4, 4]]);
  assert.deepEqual(log.query({ action: "A" }).map((r) => r.time), [3, 4]);
  assert.deepEqual(log.query({ outcome: "error" }).map((r) => r.time), [2, 4]);
  assert.deepEqual(log.query({ since: 3, last: 1 }).map((r) => r.time), [4]);
  assert.deepEqual(log.query({ principal: "i-1" }).map((r) => r.time), [3]);
  assert.deepEqual(log.counts(), { B: { total: 1, ok: 0, errors: { RequestLimitExceeded: 1 } }, A: { total: 2, ok: 1, errors: { InternalError: 1 } } });
  assert.deepEqual(loggableParams(new Map([["Action", "X"], ["X-Amz-Signature", "s"], ["X-Amz-Security-Token", "t"]])), { Action: "X" });
  log.clear();
  assert.equal(log.query().length, 0);
});

test("credentials: issue, expire, revoke", () => {
  const clock = manualClock();
  const store = new CredentialStore({ clock });
  const c = store.issue("i-1", 60_000);
  assert.match(c.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
  assert.equal(c.expiration.getTime(), clock.now() + 60_000);
  assert.equal(store.lookup(c.accessKeyId)?.principal, "i-1");
  const fixed = store.issueLongTerm("admin", { accessKeyId: "AKIAFIXEDFIXEDFIXED1", secretAccessKey: "s" });
  assert.equal(store.lookup(fixed.accessKeyId)?.secretAccessKey, "s");
  assert.equal(store.revokePrincipal("i-1"), 1);
  assert.equal(store.lookup(c.accessKeyId), undefined);
});

test("sigv4: sign then verify; each part of the request is covered", () => {
  const store = new CredentialStore();
  const c = store.issue("i-9", 60_000);
  const now = Date.now();
  const make = (): SignableRequest => {
    const r: SignableRequest = { method: "GET", url: "/?Version=2016-11-15&Action=DescribeVpcs&Filter.1.Name=a%20b", headers: { host: "127.0.0.1:1", "content-type": "x" }, body: "" };
    signV4(r, c, { region: "us-east-1", now });
    return r;
  };
  const opts = { lookup: (id: string) => store.lookup(id), now, region: "us-east-1" };
  assert.deepEqual(verifySigV4(make(), opts), { accessKeyId: c.accessKeyId, principal: "i-9" });
  const changedQuery = make();
  changedQuery.url = changedQuery.url.replace("a%20b", "a%20c");
  assert.throws(() => verifySigV4(changedQuery, opts), { code: "SignatureDoesNotMatch" });
  const changedHeader = make();
  changedHeader.headers["content-type"] = "y";
  assert.throws(() => verifySigV4(changedHeader, opts), { code: "SignatureDoesNotMatch" });
  const changedMethod = make();
  changedMethod.method = "POST";
  assert.throws(() => verifySigV4(changedMethod, opts), { code: "SignatureDoesNotMatch" });
  const noToken = make();
  delete noToken.headers["x-amz-security-token"];
  assert.throws(() => verifySigV4(noToken, opts), { code: "AuthFailure" });
  const mangled = make();
  mangled.headers["authorization"] = "AWS4-HMAC-SHA256 Credential=x";
  assert.throws(() => verifySigV4(mangled, opts), { code: "IncompleteSignature" });
  assert.throws(() => verifySigV4(make(), { ...opts, now: now + 16 * 60_000 }), { code: "RequestExpired" });
  assert.throws(() => verifySigV4(make(), { ...opts, now: now + 61_000 }), { code: "RequestExpired" }); // credentials expired
});

test("xml: escaping and shapes", () => {
  assert.equal(escapeXml(`<a href="x">&'\u0001`), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;");
  assert.equal(element("tagSet", []), "<tagSet/>");
  assert.equal(element("s", [{ k: "v", n: undefined }, { k: 1 }]), "<s><item><k>v</k></item><item><k>1</k></item></s>");
  assert.equal(element("t", new Date(Date.UTC(2024, 0, 2, 3, 4, 5))), "<t>2024-01-02T03:04:05.000Z</t>");
  assert.equal(
    errorXml("A&B", "m<", "rid"),
    '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>A&amp;B</Code><Message>m&lt;</Message></Error></Errors><RequestID>rid</RequestID></Response>',
  );
});

test("a refused throttle change leaves the configuration as it was", () => {
  const clock = manualClock();
  const t = new Throttle({ clock, enabled: true, scale: 1 });
  for (const scale of [-1, 0, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => t.configure({ enabled: true, scale }), RangeError);
    assert.equal(t.config.scale, 1);
  }
  // Still EC2's buckets: the first request of a fresh bucket passes.
  assert.equal(t.take("AttachNetworkInterface"), "mutating");
});
