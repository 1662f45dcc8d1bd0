import { test } from "node:test";
import assert from "node:assert/strict";
import { CniError } from "./errors.ts";
import { convertResult, formatResult, parseResult, printResult } from "./result.ts";
import type { Result } from "./result.ts";

// The bridge example result from SPEC 0.4.0 and 1.0.0, in each version's shape.
const v040 = {
  cniVersion: "0.4.0",
  interfaces: [
    { name: "cni0", mac: "00:11:22:33:44:55" },
    { name: "veth3243", mac: "55:44:33:22:11:11" },
    { name: "eth0", mac: "99:88:77:66:55:44", sandbox: "/var/run/netns/blue" },
  ],
  ips: [
    { version: "4", interface: 2, address: "10.1.0.5/16", gateway: "10.1.0.1" },
    { version: "6", interface: 2, address: "fd00::5/64" },
  ],
  routes: [{ dst: "0.0.0.0/0" }, { dst: "10.9.0.0/16", gw: "10.1.0.254" }],
  dns: { nameservers: ["10.1.0.1"] },
};
const v100 = {
  cniVersion: "1.0.0",
  interfaces: v040.interfaces,
  ips: [
    { interface: 2, address: "10.1.0.5/16", gateway: "10.1.0.1" },
    { interface: 2, address: "fd00::5/64" },
  ],
  routes: v040.routes,
  dns: v040.dns,
};

test("0.4.0 -> 1.0.0 drops ips[].version, exact JSON", () => {
  assert.equal(JSON.stringify(convertResult(v040, "1.0.0")), JSON.stringify(v100));
});

test("1.0.0 -> 0.4.0 derives ips[].version from the address, exact JSON", () => {
  assert.equal(JSON.stringify(convertResult(v100, "0.4.0")), JSON.stringify(v040));
});

test("round trips are identities in every supported version", () => {
  for (const v of ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]) {
    const there = convertResult(v040, v);
    assert.equal(there.cniVersion, v);
    assert.equal(JSON.stringify(convertResult(there, "0.4.0")), JSON.stringify(v040));
    assert.equal(JSON.stringify(convertResult(there, "1.0.0")), JSON.stringify(v100));
  }
});

test("0.3.x results are 0.4.0-shaped", () => {
  assert.equal(JSON.stringify(convertResult(v100, "0.3.1")), JSON.stringify({ ...v040, cniVersion: "0.3.1" }));
});

const v110 = {
  cniVersion: "1.1.0",
  interfaces: [
    { name: "eni1a2b3c4d5e6", mac: "aa:bb:cc:dd:ee:01", mtu: 9001 },
    { name: "eth0", mac: "aa:bb:cc:dd:ee:02", mtu: 9001, sandbox: "/run/netns/p", socketPath: "/run/x.sock", pciID: "0000:00:05.0" },
  ],
  ips: [{ interface: 1, address: "10.0.1.7/32" }],
  routes: [{ dst: "0.0.0.0/0", gw: "169.254.1.1", mtu: 1500, advmss: 1460, priority: 10, table: 2, scope: 0 }],
};

test("1.1.0 fields survive at 1.1.0 and are dropped going to 1.0.0 and 0.4.0", () => {
  assert.equal(JSON.stringify(convertResult(v110, "1.1.0")), JSON.stringify(v110));
  assert.equal(
    JSON.stringify(convertResult(v110, "1.0.0")),
    JSON.stringify({
      cniVersion: "1.0.0",
      interfaces: [{ name: "eni1a2b3c4d5e6", mac: "aa:bb:cc:dd:ee:01" }, { name: "eth0", mac: "aa:bb:cc:dd:ee:02", sandbox: "/run/netns/p" }],
      ips: [{ interface: 1, address: "10.0.1.7/32" }],
      routes: [{ dst: "0.0.0.0/0", gw: "169.254.1.1" }],
    }),
  );
  assert.equal(
    JSON.stringify(convertResult(v110, "0.4.0")),
    JSON.stringify({
      cniVersion: "0.4.0",
      interfaces: [{ name: "eni1a2b3c4d5e6", mac: "aa:bb:cc:dd:ee:01" }, { name: "eth0", mac: "aa:bb:cc:dd:ee:02", sandbox: "/run/netns/p" }],
      ips: [{ version: "4", interface: 1, address: "10.0.1.7/32" }],
      routes: [{ dst: "0.0.0.0/0", gw: "169.254.1.1" }],
    }),
  );
});

test("IPAM (abbreviated) result: no interfaces, no interface index", () => {
  const ipam = { cniVersion: "0.4.0", ips: [{ version: "4", address: "10.1.0.5/16", gateway: "10.1.0.1" }], routes: [{ dst: "0.0.0.0/0" }] };
  assert.equal(JSON.stringify(convertResult(ipam, "1.0.0")), `{"cniVersion":"1.0.0","ips":[{"address":"10.1.0.5/16","gateway":"10.1.0.1"}],"routes":[{"dst":"0.0.0.0/0"}]}`);
  assert.equal(JSON.stringify(convertResult(ipam, "0.4.0")), JSON.stringify(ipam));
});

test("an empty result prints only cniVersion; empty dns is omitted", () => {
  assert.equal(printResult({}, "1.0.0"), `{"cniVersion":"1.0.0"}`);
  assert.equal(printResult({ dns: {} , ips: [], interfaces: [] }, "0.4.0"), `{"cniVersion":"0.4.0"}`);
  assert.equal(JSON.stringify(convertResult({ cniVersion: "1.0.0", dns: {} }, "1.0.0")), `{"cniVersion":"1.0.0"}`);
});

test("interface index 0 is printed (Go's *int)", () => {
  const r: Result = { interfaces: [{ name: "eth0", sandbox: "/n" }], ips: [{ address: "10.0.0.2/32", interface: 0 }] };
  assert.equal(printResult(r, "1.0.0"), `{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/n"}],"ips":[{"interface":0,"address":"10.0.0.2/32"}]}`);
});

test("a result without cniVersion is read in the fallback version", () => {
  const p = parseResult({ ips: [{ version: "4", address: "10.0.0.2/32" }] }, "0.4.0");
  assert.equal(p.cniVersion, "0.4.0");
  assert.deepEqual(p.result, { ips: [{ address: "10.0.0.2/32" }] });
  // A 0.x ip without version is accepted; it is derived on output.
  assert.equal(JSON.stringify(convertResult({ ips: [{ address: "fd00::2/128" }] }, "0.4.0")), `{"cniVersion":"0.4.0","ips":[{"version":"6","address":"fd00::2/128"}]}`);
  // A stray version in a 1.x result is ignored, as Go's types100 ignores unknown keys.
  assert.deepEqual(parseResult({ cniVersion: "1.0.0", ips: [{ version: "4", address: "10.0.0.2/32" }] }, "1.0.0").result, { ips: [{ address: "10.0.0.2/32" }] });
});

function codeOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CniError, String(e));
    return e.code;
  }
  return assert.fail("expected a CniError");
}

test("impossible conversions and unknown versions are code 1", () => {
  assert.equal(codeOf(() => convertResult(v100, "0.2.0")), 1);
  assert.equal(codeOf(() => convertResult(v100, "2.0.0")), 1);
  assert.equal(codeOf(() => convertResult({ ...v100, cniVersion: "0.2.0" }, "1.0.0")), 1);
  assert.equal(codeOf(() => formatResult({ ips: [{ address: "not-an-ip" }] }, "0.4.0")), 1);
});

test("malformed results are code 7 with the path of the bad field", () => {
  const cases: [unknown, RegExp][] = [
    [[], /must be an object/],
    [{ cniVersion: "1.0.0", ips: {} }, /ips: must be an array/],
    [{ cniVersion: "1.0.0", ips: [{ address: "10.0.0.1" }] }, /ips\[0\]\.address/],
    [{ cniVersion: "1.0.0", ips: [{ address: 5 }] }, /ips\[0\]\.address: must be a CIDR string, got number/],
    [{ cniVersion: "1.0.0", ips: [{ address: "10.0.0.1/32", gateway: "x" }] }, /gateway/],
    [{ cniVersion: "1.0.0", ips: [{ address: "10.0.0.1/32", interface: -1 }] }, /interface/],
    [{ cniVersion: "1.0.0", ips: [{ address: "10.0.0.1/32", interface: "2" }] }, /interface/],
    [{ cniVersion: "0.4.0", ips: [{ version: "6", address: "10.0.0.1/32" }] }, /version/],
    [{ cniVersion: "1.0.0", interfaces: [{ mac: "x" }] }, /interfaces\[0\]\.name: is required/],
    [{ cniVersion: "1.0.0", interfaces: [{ name: "e", sandbox: 1 }] }, /sandbox/],
    [{ cniVersion: "1.0.0", routes: [{ gw: "10.0.0.1" }] }, /routes\[0\]\.dst/],
    [{ cniVersion: "1.1.0", routes: [{ dst: "0.0.0.0/0", table: "main" }] }, /table/],
    [{ cniVersion: "1.0.0", dns: { nameservers: "10.0.0.2" } }, /dns\.nameservers/],
    [{ cniVersion: 1 }, /cniVersion: must be a string/],
  ];
  for (const [value, re] of cases) {
    assert.throws(() => parseResult(value, "1.0.0", "prevResult"), (e: unknown) => e instanceof CniError && e.code === 7 && re.test(e.message), JSON.stringify(value));
  }
});
