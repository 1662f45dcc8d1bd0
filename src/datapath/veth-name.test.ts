import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_VETH_PREFIX, hostVethNameSuffix, podHostVethName } from "./veth-name.ts";

// Expected values computed independently with `printf '%s' 'ns.name' | sha1sum | cut -c1-11`.
test("suffix is the first 11 hex digits of sha1(<namespace>.<name>)", () => {
  assert.equal(hostVethNameSuffix("default", "nginx"), "c440f455693");
  assert.equal(hostVethNameSuffix("kube-system", "coredns-5d78c9869d-abcde"), "4d5f75c480c");
});

test("name is prefix + suffix: 14 characters with the default prefix", () => {
  assert.equal(DEFAULT_VETH_PREFIX, "eni");
  assert.equal(podHostVethName("eni", "prod", "api-7f9c6b7d8-x2x4z"), "eni0b2b5586c24");
  assert.equal(podHostVethName("eni", "default", "nginx").length, 14);
  assert.equal(podHostVethName("vlan", "default", "nginx"), "vlanc440f455693");
});

test("extra interfaces of a multi-NIC pod hash <name>.<index>", () => {
  assert.equal(podHostVethName("eni", "default", "web-0", 0), "eni0d7763386da");
  assert.equal(podHostVethName("eni", "default", "web-0", 1), "enib813f772d20");
});
