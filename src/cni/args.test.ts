import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCniArgs } from "./args.ts";
import { CniError } from "./errors.ts";

function fails(raw: string, re: RegExp, extraKeys?: string[]): void {
  assert.throws(() => parseCniArgs(raw, extraKeys ? { extraKeys } : {}), (e: unknown) => e instanceof CniError && e.code === 4 && re.test(e.message) && e.message.includes("CNI_ARGS"));
}

test("empty CNI_ARGS", () => {
  assert.deepEqual(parseCniArgs(""), { ignoreUnknown: false, all: {} });
});

test("kubelet's K8S_* keys in any order", () => {
  const pairs = ["K8S_POD_NAMESPACE=default", "K8S_POD_NAME=web-0", "K8S_POD_INFRA_CONTAINER_ID=abc123", "K8S_POD_UID=9f1c-77"];
  const expected = { podNamespace: "default", podName: "web-0", podInfraContainerId: "abc123", podUid: "9f1c-77" };
  for (const order of [pairs, [...pairs].reverse(), [pairs[2], pairs[0], pairs[3], pairs[1]]]) {
    const a = parseCniArgs(order.join(";"));
    assert.equal(a.ignoreUnknown, false);
    assert.deepEqual({ podNamespace: a.podNamespace, podName: a.podName, podInfraContainerId: a.podInfraContainerId, podUid: a.podUid }, expected);
  }
});

test("podman's IgnoreUnknown=1;K8S_POD_NAME;IP;MAC in random order, with unknown keys", () => {
  const pairs = ["IgnoreUnknown=1", "K8S_POD_NAME=cnit-web", "IP=10.123.6.9", "MAC=0A:58:0A:7B:06:09", "FOO=bar"];
  // Every rotation and its reverse: deterministic, and each key appears first and last.
  const orders = pairs.flatMap((_, i) => {
    const rotated = [...pairs.slice(i), ...pairs.slice(0, i)];
    return [rotated, [...rotated].reverse()];
  });
  for (const shuffled of orders) {
    const a = parseCniArgs(shuffled.join(";"));
    assert.equal(a.ignoreUnknown, true);
    assert.equal(a.podName, "cnit-web");
    assert.equal(a.ip, "10.123.6.9");
    assert.equal(a.mac, "0a:58:0a:7b:06:09");
    assert.equal(a.all["FOO"], "bar");
  }
});

test("IgnoreUnknown accepts 1/true/0/false in any case; other values are errors", () => {
  assert.equal(parseCniArgs("IgnoreUnknown=TRUE;X=1").ignoreUnknown, true);
  assert.equal(parseCniArgs("IgnoreUnknown=true").ignoreUnknown, true);
  assert.equal(parseCniArgs("IgnoreUnknown=0").ignoreUnknown, false);
  fails("IgnoreUnknown=0;X=1", /unknown args \["X"\]/);
  fails("IgnoreUnknown=yes", /not a boolean/);
});

test("unknown keys without IgnoreUnknown are an error listing them", () => {
  fails("K8S_POD_NAME=a;FOO=1;BAR=2", /unknown args \["FOO","BAR"\]/);
  assert.equal(parseCniArgs("K8S_POD_NAME=a;VETH=x", { extraKeys: ["VETH"] }).all["VETH"], "x");
});

test("malformed pairs are code 4", () => {
  fails("K8S_POD_NAME", /invalid pair "K8S_POD_NAME"/);
  fails("=value", /invalid pair/);
  fails("A=b=c", /invalid pair "A=b=c"/);
  fails("IgnoreUnknown=1;;noequals", /invalid pair "noequals"/);
});

test("empty segments and empty values are accepted", () => {
  const a = parseCniArgs("K8S_POD_NAME=x;;K8S_POD_NAMESPACE=;");
  assert.equal(a.podName, "x");
  assert.equal(a.podNamespace, "");
});

test("IP and MAC are validated", () => {
  assert.equal(parseCniArgs("IP=10.0.0.1/24").ip, "10.0.0.1/24");
  assert.equal(parseCniArgs("IP=10.0.0.1,fd00::1/64").ip, "10.0.0.1,fd00::1/64");
  fails("IP=10.0.0.300", /IP=/);
  fails("IP=10.0.0.1/33", /prefix/);
  fails("MAC=0a:58:0a:7b:06", /MAC=/);
  fails("MAC=zz:58:0a:7b:06:09", /MAC=/);
});
