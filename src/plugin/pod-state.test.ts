import { test } from "node:test";
import assert from "node:assert/strict";
import { dummyInterface, podStateFromResult } from "./pod-state.ts";

const host = { name: "eni0123456789a", mac: "aa:bb:cc:dd:ee:01" };
const pod = { name: "eth0", mac: "aa:bb:cc:dd:ee:02", sandbox: "/run/netns/x" };

test("aws-node's dummy record (Kubernetes callers) round-trips, device number in sandbox", () => {
  const dummy = dummyInterface(host.name, 2);
  assert.deepEqual(dummy, { name: "dummy0123456789a", mac: "0", sandbox: "2" });
  const state = podStateFromResult({ cniVersion: "1.0.0", interfaces: [host, pod, dummy], ips: [{ address: "10.0.0.5/32", interface: 1 }] } as never);
  assert.deepEqual(state, { address: "10.0.0.5", routeTableId: 3, deviceNumber: 2, hostVethName: host.name, podVlanId: 0 });
});

test("the host form (podman: no sandbox, so no MAC to parse) round-trips", () => {
  for (const device of [0, 2]) {
    const dummy = dummyInterface(host.name, device, 0, "host");
    assert.equal(dummy.sandbox, "");
    const state = podStateFromResult({ cniVersion: "1.0.0", interfaces: [host, pod, dummy], ips: [{ address: "10.0.0.5/32", interface: 1 }] } as never);
    assert.deepEqual(state, { address: "10.0.0.5", routeTableId: device === 0 ? 254 : device + 1, deviceNumber: device, hostVethName: host.name, podVlanId: 0 });
  }
});

test("an IPv6 pod's /128 round-trips (DEL without the agent), in every version that carries results", async () => {
  const { formatResult, parseResult } = await import("../cni/index.ts");
  const dummy = dummyInterface(host.name, 0);
  const result = { interfaces: [host, pod, dummy], ips: [{ address: "2600:1f18:4703:4301:3064::8/128", interface: 1 }] };
  for (const version of ["0.4.0", "1.0.0", "1.1.0"]) {
    const printed = formatResult(result, version);
    if (version === "0.4.0") assert.equal((printed["ips"] as Array<Record<string, unknown>>)[0]?.["version"], "6");
    const state = podStateFromResult(parseResult(JSON.parse(JSON.stringify(printed)), version).result);
    assert.deepEqual(state, { address: "2600:1f18:4703:4301:3064::8", routeTableId: 254, deviceNumber: 0, hostVethName: host.name, podVlanId: 0 }, version);
  }
  // egress-cni's 169.254.172.0/22 address never appears in the result, and a /64 is nobody's pod address.
  assert.equal(podStateFromResult({ interfaces: [host, pod, dummy], ips: [{ address: "fd00::5/64", interface: 1 }] } as never), undefined);
});
