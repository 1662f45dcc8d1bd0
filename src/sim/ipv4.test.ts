import { test } from "node:test";
import assert from "node:assert/strict";
import {
  cidrContainsAddress,
  cidrContainsCidr,
  cidrsOverlap,
  formatCidr4,
  formatIpv4,
  isReservedInSubnet,
  parseCidr4,
  parseIpv4,
  type Cidr4,
} from "./ipv4.ts";

const cidr = (text: string): Cidr4 => parseCidr4(text) as Cidr4;

test("parseIpv4 accepts dotted quads and refuses everything else", () => {
  assert.equal(parseIpv4("10.0.1.5"), 0x0a000105);
  assert.equal(parseIpv4("255.255.255.255"), 0xffffffff);
  assert.equal(parseIpv4("0.0.0.0"), 0);
  for (const bad of ["10.0.1", "10.0.1.256", "10.0.1.05", "a.b.c.d", "10.0.1.5 ", "", "1.2.3.4.5"]) {
    assert.equal(parseIpv4(bad), undefined, bad);
  }
});

test("formatIpv4 round-trips, including the top bit", () => {
  for (const text of ["10.0.1.5", "255.255.255.255", "192.168.0.1", "0.0.0.0"]) {
    assert.equal(formatIpv4(parseIpv4(text) as number), text);
  }
});

test("parseCidr4 refuses host bits and bad lengths", () => {
  assert.deepEqual(parseCidr4("10.0.1.0/24"), { network: 0x0a000100, prefixLength: 24, size: 256 });
  assert.equal(parseCidr4("10.0.1.1/24"), undefined);
  assert.equal(parseCidr4("10.0.1.0/33"), undefined);
  assert.equal(parseCidr4("10.0.1.0"), undefined);
  assert.equal(parseCidr4("10.0.1.0/x"), undefined);
  assert.equal(formatCidr4(cidr("10.0.16.0/20")), "10.0.16.0/20");
});

test("containment and overlap", () => {
  const vpc = cidr("10.0.0.0/16");
  assert.ok(cidrContainsCidr(vpc, cidr("10.0.255.0/24")));
  assert.ok(!cidrContainsCidr(vpc, cidr("10.1.0.0/24")));
  assert.ok(!cidrContainsCidr(cidr("10.0.1.0/24"), vpc));
  assert.ok(cidrsOverlap(cidr("10.0.1.0/24"), cidr("10.0.1.128/25")));
  assert.ok(!cidrsOverlap(cidr("10.0.1.0/24"), cidr("10.0.2.0/24")));
  assert.ok(cidrContainsAddress(cidr("10.0.1.0/24"), parseIpv4("10.0.1.255") as number));
  assert.ok(!cidrContainsAddress(cidr("10.0.1.0/24"), parseIpv4("10.0.2.0") as number));
});

test("the five reserved addresses of a subnet", () => {
  const subnet = cidr("10.0.1.0/24");
  const reserved = [0, 1, 2, 3, 255].map((o) => subnet.network + o);
  for (const a of reserved) assert.ok(isReservedInSubnet(subnet, a), formatIpv4(a));
  for (const o of [4, 100, 254]) assert.ok(!isReservedInSubnet(subnet, subnet.network + o));
});
