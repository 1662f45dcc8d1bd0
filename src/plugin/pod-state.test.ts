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
