import { test } from "node:test";
import assert from "node:assert/strict";
import { canonicalCidrs, DatapathInputError, parseIpv4Cidr, validateIpv4 } from "./validate.ts";
import { subnetGateway } from "./eni-network.ts";

test("IPv4 addresses for command lines: dotted quads only, returned unchanged", () => {
  assert.equal(validateIpv4("10.0.1.5"), "10.0.1.5");
  for (const bad of ["10.0.1", "10.0.1.256", "10.0.01.5", "-10.0.0.1", "2600::1", " 10.0.0.1", ""]) {
    assert.throws(() => validateIpv4(bad, "pod address"), (err: Error) => err instanceof DatapathInputError && err.message.startsWith(`invalid pod address ${JSON.stringify(bad)}`), bad);
  }
});

test("IPv4 CIDRs: host bits cleared as the reference prints them, duplicates dropped, IPv6 refused", () => {
  const subnet = parseIpv4Cidr(" 10.0.16.7/20 ");
  assert.equal(subnet.text, "10.0.16.0/20");
  assert.equal(subnet.prefixLength, 20);
  assert.equal(subnetGateway(subnet), "10.0.16.1");
  assert.deepEqual(canonicalCidrs(["10.0.0.0/16", "10.0.9.9/16", "192.168.0.0/24"], "VPC CIDR"), ["10.0.0.0/16", "192.168.0.0/24"]);
  for (const bad of ["10.0.0.0", "10.0.0.0/33", "2600::/80", "10.0.0.256/8"]) {
    assert.throws(() => parseIpv4Cidr(bad, "VPC CIDR"), /invalid VPC CIDR/, bad);
  }
});
