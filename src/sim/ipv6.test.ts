import { test } from "node:test";
import assert from "node:assert/strict";
import { cidr6ContainsAddress, cidr6ContainsCidr, cidrs6Overlap, formatIpv6, parseCidr6, parseIpv6, type Cidr6 } from "./ipv6.ts";

test("parseIpv6 handles compression and refuses malformed text", () => {
  assert.equal(parseIpv6("::"), 0n);
  assert.equal(parseIpv6("::1"), 1n);
  assert.equal(parseIpv6("2600:1f18:0:0:0:0:0:1"), parseIpv6("2600:1f18::1"));
  assert.equal(parseIpv6("2600:1F18::ABCD"), parseIpv6("2600:1f18::abcd"));
  for (const bad of ["2600::1::2", "2600:1f18", "12345::", "g::1", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::8"]) {
    assert.equal(parseIpv6(bad), undefined, bad);
  }
});

test("formatIpv6 writes the RFC 5952 canonical form", () => {
  const canon = (text: string) => formatIpv6(parseIpv6(text) as bigint);
  assert.equal(canon("2600:1f18:0000:0000:0000:0000:0000:0001"), "2600:1f18::1");
  assert.equal(canon("2001:db8:0:1:0:0:0:1"), "2001:db8:0:1::1"); // longest run wins
  assert.equal(canon("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1"); // first of equal runs
  assert.equal(canon("2001:db8:1:1:1:1:0:1"), "2001:db8:1:1:1:1:0:1"); // single zero group kept
  assert.equal(canon("::"), "::");
  assert.equal(canon("1::"), "1::");
});

test("IPv6 CIDRs: host bits, containment, overlap", () => {
  assert.equal(parseCidr6("2600:1f18::1/64"), undefined);
  const vpc = parseCidr6("2600:1f18:1:100::/56") as Cidr6;
  const subnet = parseCidr6("2600:1f18:1:101::/64") as Cidr6;
  assert.ok(cidr6ContainsCidr(vpc, subnet));
  assert.ok(!cidr6ContainsCidr(subnet, vpc));
  assert.ok(cidrs6Overlap(vpc, subnet));
  assert.ok(!cidrs6Overlap(subnet, parseCidr6("2600:1f18:1:102::/64") as Cidr6));
  assert.ok(cidr6ContainsAddress(subnet, parseIpv6("2600:1f18:1:101:ffff::1") as bigint));
  assert.ok(!cidr6ContainsAddress(subnet, parseIpv6("2600:1f18:1:102::1") as bigint));
});
