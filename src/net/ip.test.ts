import { test } from "node:test";
import assert from "node:assert/strict";
import { cidrContains, cidrsOverlap, formatIp, parseCidr, parseIp, parseNetwork } from "./ip.ts";

test("IPv4 parses like Go's ParseIP: no leading zeros, four parts", () => {
  assert.deepEqual(parseIp("10.0.1.5"), { family: "4", value: 0x0a000105n });
  assert.equal(formatIp("4", 0xffffffffn), "255.255.255.255");
  for (const bad of ["10.0.1", "10.0.1.256", "10.0.01.5", "1.2.3.4.5", " 10.0.0.1", "", "a.b.c.d"]) {
    assert.equal(parseIp(bad), undefined, bad);
  }
});

test("IPv6 parses the usual forms and prints like Go (RFC 5952)", () => {
  const cases: [string, string][] = [
    ["2600:1f14:0:0:0:0:0:1", "2600:1f14::1"],
    ["2600:1F14:ABCD::", "2600:1f14:abcd::"],
    ["::", "::"],
    ["::1", "::1"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
    ["1:0:0:2:3:0:0:4", "1::2:3:0:0:4"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"],
  ];
  for (const [input, printed] of cases) {
    const ip = parseIp(input);
    assert.ok(ip, input);
    assert.equal(ip.family, "6");
    assert.equal(formatIp("6", ip.value), printed, input);
  }
  assert.deepEqual(parseIp("::ffff:10.0.0.1"), { family: "6", value: 0xffff0a000001n });
  for (const bad of ["1::2::3", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "12345::", "::g", "1:2:3:4:5:6:7::8"]) {
    assert.equal(parseIp(bad), undefined, bad);
  }
});

test("CIDRs: canonical text, size, host bits refused, containment and overlap", () => {
  const p28 = parseCidr("10.0.1.16/28");
  assert.ok(p28);
  assert.equal(p28.size, 16);
  assert.equal(p28.text, "10.0.1.16/28");
  assert.equal(parseCidr("10.0.1.17/28"), undefined);
  assert.equal(parseCidr("10.0.1.16/33"), undefined);
  assert.equal(parseCidr("10.0.1.16"), undefined);
  const v6 = parseCidr("2600:1F14:0:1:ab00::/80");
  assert.ok(v6);
  assert.equal(v6.text, "2600:1f14:0:1:ab00::/80");
  assert.equal(v6.size, 2 ** 48);
  assert.equal(parseCidr("2600::/64"), undefined, "larger than any delegated block");
  const ip = parseIp("10.0.1.31");
  assert.ok(ip);
  assert.equal(cidrContains(p28, ip), true);
  assert.equal(cidrContains(p28, parseIp("10.0.1.32") as NonNullable<ReturnType<typeof parseIp>>), false);
  assert.equal(cidrsOverlap(p28, parseCidr("10.0.1.20/32") as NonNullable<ReturnType<typeof parseCidr>>), true);
  assert.equal(cidrsOverlap(p28, parseCidr("10.0.1.32/28") as NonNullable<ReturnType<typeof parseCidr>>), false);
});

test("networks as people write them: host bits cleared and reported, a leading zero in the length, both families", () => {
  assert.deepEqual(parseNetwork("192.168.7.9/24"), { cidr: parseCidr("192.168.7.0/24"), hadHostBits: true });
  assert.deepEqual(parseNetwork("10.0.0.0/08"), { cidr: parseCidr("10.0.0.0/8"), hadHostBits: false });
  assert.equal(parseNetwork("0.0.0.0/0")?.cidr.text, "0.0.0.0/0");
  assert.equal(parseNetwork("10.1.2.3/32")?.hadHostBits, false);
  assert.equal(parseNetwork("2600:1f14::1/80")?.cidr.text, "2600:1f14::/80");
  for (const bad of ["10.0.0.0", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "10.0.00.0/8", "10.0.0.0/8 ", "/8", "2600::/64", "10.0.0.0/1000"]) {
    assert.equal(parseNetwork(bad), undefined, bad);
  }
});
