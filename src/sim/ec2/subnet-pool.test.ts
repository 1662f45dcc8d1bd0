import { test } from "node:test";
import assert from "node:assert/strict";
import { SubnetPool } from "./subnet-pool.ts";
import { formatIpv4, parseCidr4, parseIpv4, type Cidr4 } from "../ipv4.ts";
import { parseCidr6, parseIpv6, type Cidr6 } from "../ipv6.ts";
import { seededRandom } from "./model.test-support.ts";

const ip = (text: string) => parseIpv4(text) as number;
const pool = (cidr: string, seed = 7, cidr6?: string) =>
  new SubnetPool(parseCidr4(cidr) as Cidr4, cidr6 ? (parseCidr6(cidr6) as Cidr6) : undefined, seededRandom(seed));

test("available = size - 5 - addresses - 16 per prefix - reservation, never negative", () => {
  const p = pool("10.0.1.0/24");
  assert.equal(p.available, 251);
  p.takeAddress(ip("10.0.1.10"), "eni-a");
  assert.equal(p.available, 250);
  p.takePrefix(ip("10.0.1.32"), "eni-a");
  assert.equal(p.available, 234);
  p.reservation = 200;
  assert.equal(p.available, 34);
  p.reservation = 1000;
  assert.equal(p.available, 0);
  p.reservation = 0;
  p.releasePrefix(ip("10.0.1.32"));
  p.releaseAddress(ip("10.0.1.10"));
  assert.equal(p.available, 251);
});

test("a /28 subnet yields exactly its 11 usable addresses, never a reserved one", () => {
  const p = pool("10.0.1.16/28");
  const picked = p.pickAddresses(11) as number[];
  assert.equal(new Set(picked).size, 11);
  assert.deepEqual([...picked].sort((a, b) => a - b).map(formatIpv4), Array.from({ length: 11 }, (_, i) => `10.0.1.${20 + i}`));
  assert.equal(p.pickAddresses(12), undefined);
  for (const a of picked) p.takeAddress(a, "eni-a");
  assert.equal(p.pickAddresses(1), undefined);
  assert.equal(p.pickPrefixes(1), undefined); // a /28 subnet has no room for a /28 prefix
});

test("addresses are chosen pseudo-randomly, not in order", () => {
  const firsts = new Set([1, 2, 3, 4, 5, 6].map((seed) => (pool("10.0.0.0/16", seed).pickAddresses(1) as number[])[0]));
  assert.ok(firsts.size > 1);
});

test("explicit addresses: outside, reserved, in use, inside a prefix", () => {
  const p = pool("10.0.1.0/24");
  p.takeAddress(ip("10.0.1.10"), "eni-a");
  p.takePrefix(ip("10.0.1.48"), "eni-b");
  assert.equal(p.refuseAddress(ip("10.0.2.10")), "outside");
  for (const r of ["10.0.1.0", "10.0.1.1", "10.0.1.2", "10.0.1.3", "10.0.1.255"]) assert.equal(p.refuseAddress(ip(r)), "reserved", r);
  assert.equal(p.refuseAddress(ip("10.0.1.10")), "in-use");
  assert.equal(p.refuseAddress(ip("10.0.1.50")), "in-prefix");
  assert.equal(p.refuseAddress(ip("10.0.1.11"), new Set([ip("10.0.1.11")])), "in-use");
  assert.equal(p.refuseAddress(ip("10.0.1.4")), undefined);
  assert.equal(p.ownerOfAddress(ip("10.0.1.10")), "eni-a");
  assert.equal(p.ownerOfPrefix(ip("10.0.1.48")), "eni-b");
});

test("explicit prefixes: misaligned, outside, reserved blocks, overlapping", () => {
  const p = pool("10.0.1.0/24");
  p.takeAddress(ip("10.0.1.70"), "eni-a");
  p.takePrefix(ip("10.0.1.96"), "eni-b");
  assert.equal(p.refusePrefix(ip("10.0.1.40")), "misaligned");
  assert.equal(p.refusePrefix(ip("10.0.2.16")), "outside");
  assert.equal(p.refusePrefix(ip("10.0.1.0")), "reserved"); // holds network/router/DNS/future
  assert.equal(p.refusePrefix(ip("10.0.1.240")), "reserved"); // holds the broadcast
  assert.equal(p.refusePrefix(ip("10.0.1.64")), "in-use"); // overlaps 10.0.1.70
  assert.equal(p.refusePrefix(ip("10.0.1.96")), "in-use");
  assert.equal(p.refusePrefix(ip("10.0.1.16"), new Set([ip("10.0.1.20")])), "in-use");
  assert.equal(p.refusePrefix(ip("10.0.1.16"), new Set(), new Set([ip("10.0.1.16")])), "in-use");
  assert.equal(p.refusePrefix(ip("10.0.1.16")), undefined);
});

test("prefixes never overlap individually assigned addresses, however fragmented", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const p = pool("10.0.1.0/24", seed);
    const addresses = p.pickAddresses(40) as number[];
    for (const a of addresses) p.takeAddress(a, "eni-a");
    const prefixes: number[] = [];
    for (;;) {
      const next = p.pickPrefixes(1);
      if (!next) break;
      p.takePrefix(next[0] as number, "eni-b");
      prefixes.push(next[0] as number);
    }
    for (const base of prefixes) {
      assert.equal(base % 16, 0);
      for (const a of addresses) assert.ok(a < base || a >= base + 16, `seed ${seed}: ${formatIpv4(a)} inside ${formatIpv4(base)}/28`);
    }
    // Every block left is unusable: it holds a reserved or an assigned address.
    for (let block = 0; block < 16; block++) {
      const base = ip("10.0.1.0") + block * 16;
      if (!prefixes.includes(base)) assert.notEqual(p.refusePrefix(base), undefined);
    }
    // And new addresses never land inside a prefix.
    for (const a of p.pickAddresses(Math.min(20, p.available)) ?? []) {
      assert.ok(prefixes.every((base) => a < base || a >= base + 16));
    }
  }
});

test("a /26 has two usable /28s; a third is refused", () => {
  const p = pool("10.0.1.0/26");
  const two = p.pickPrefixes(2) as number[];
  assert.deepEqual([...two].sort().map(formatIpv4), ["10.0.1.16", "10.0.1.32"]);
  assert.equal(p.pickPrefixes(3), undefined);
});

test("IPv6: random addresses inside the /64, reserved ones and /80 prefixes respected", () => {
  const p = pool("10.0.1.0/24", 3, "2600:1f18:1:101::/64");
  const cidr6 = parseCidr6("2600:1f18:1:101::/64") as Cidr6;
  const addrs = p.pickAddresses6(5) as bigint[];
  assert.equal(new Set(addrs).size, 5);
  for (const a of addrs) assert.equal(a >> 64n, cidr6.network >> 64n);
  const v6 = (t: string) => parseIpv6(t) as bigint;
  assert.equal(p.refuseAddress6(v6("2600:1f18:1:101::2")), "reserved");
  assert.equal(p.refuseAddress6(v6("2600:1f18:1:101:ffff:ffff:ffff:ffff")), "reserved");
  assert.equal(p.refuseAddress6(v6("2600:1f18:1:102::10")), "outside");
  p.takeAddress6(v6("2600:1f18:1:101:5::10"), "eni-a");
  assert.equal(p.refuseAddress6(v6("2600:1f18:1:101:5::10")), "in-use");
  assert.equal(p.refusePrefix6(v6("2600:1f18:1:101:5::")), "in-use");
  assert.equal(p.refusePrefix6(v6("2600:1f18:1:101:5:1::")), "misaligned");
  assert.equal(p.refusePrefix6(v6("2600:1f18:1:101::")), "reserved");
  p.takePrefix6(v6("2600:1f18:1:101:6::"), "eni-b");
  assert.equal(p.refuseAddress6(v6("2600:1f18:1:101:6::99")), "in-prefix");
  assert.equal(p.refusePrefix6(v6("2600:1f18:1:101:6::")), "in-use");
  const prefixes = p.pickPrefixes6(3) as bigint[];
  assert.equal(new Set(prefixes).size, 3);
  for (const base of prefixes) assert.equal(base & ((1n << 48n) - 1n), 0n);
  assert.equal(pool("10.0.1.0/24").pickAddresses6(1), undefined); // no IPv6 CIDR
});
