import { test } from "node:test";
import assert from "node:assert/strict";
import { execConfig, getFold, parseConfList, parseNetConf, runtimeConfigValue } from "./config.ts";
import { CniError } from "./errors.ts";

function codeOf(fn: () => unknown): { code: number; msg: string } {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CniError, String(e));
    return { code: e.code, msg: e.message };
  }
  return assert.fail("expected a CniError");
}

// What containerd/libcni sends: keys re-marshalled in alphabetical order, prevResult injected.
const containerdAdd = JSON.stringify({
  capabilities: { portMappings: true },
  cniVersion: "1.0.0",
  ipMasq: false,
  mtu: 9001,
  name: "vpc-net",
  prevResult: { cniVersion: "1.0.0", interfaces: [{ name: "eth0", sandbox: "/var/run/netns/cni-1" }], ips: [{ interface: 0, address: "10.0.1.5/32" }] },
  runtimeConfig: { PortMappings: [{ HostPort: 8080, ContainerPort: 80, Protocol: "tcp" }] },
  type: "portmap",
  vethPrefix: "eni",
});

test("every version's config shape parses", () => {
  for (const v of ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]) {
    const c = parseNetConf(JSON.stringify({ cniVersion: v, name: "dbnet", type: "bridge", bridge: "cni0", ipam: { type: "host-local", subnet: "10.1.0.0/16" }, dns: { nameservers: ["10.1.0.1"] }, args: { labels: { appVersion: "1.0" } } }));
    assert.equal(c.cniVersion, v);
    assert.equal(c.name, "dbnet");
    assert.equal(c.type, "bridge");
    assert.equal(c.raw["bridge"], "cni0");
    assert.equal(c.ipam?.type, "host-local");
    assert.deepEqual(c.dns, { nameservers: ["10.1.0.1"] });
    assert.deepEqual(c.args, { labels: { appVersion: "1.0" } });
  }
});

test("containerd's sorted, re-marshalled config with prevResult and capitalised runtimeConfig keys", () => {
  const c = parseNetConf(containerdAdd);
  assert.equal(c.raw["vethPrefix"], "eni");
  assert.equal(c.raw["mtu"], 9001);
  assert.deepEqual(c.capabilities, { portMappings: true });
  assert.equal(c.ipMasq, false);
  assert.deepEqual(c.prevResult, { interfaces: [{ name: "eth0", sandbox: "/var/run/netns/cni-1" }], ips: [{ interface: 0, address: "10.0.1.5/32" }] });
  assert.equal(c.prevResultVersion, "1.0.0");
  const pm = runtimeConfigValue(c, "portMappings") as Record<string, unknown>[];
  assert.equal(pm.length, 1);
  assert.equal(getFold(pm[0], "hostPort"), 8080);
  assert.equal(runtimeConfigValue(c, "PORTMAPPINGS"), pm);
  assert.equal(runtimeConfigValue(c, "bandwidth"), undefined);
  assert.equal(runtimeConfigValue({}, "portMappings"), undefined);
});

test("exact-case runtimeConfig key wins over a folded one", () => {
  assert.equal(getFold({ portmappings: 1, portMappings: 2 }, "portMappings"), 2);
});

test("podman's runtimeConfig with lowercase portMappings and aliases", () => {
  const c = parseNetConf(JSON.stringify({ cniVersion: "1.0.0", name: "cnit-pod", type: "vpc-cni", runtimeConfig: { aliases: { "cnit-pod": ["a1b2c3"] }, portMappings: [{ hostPort: 18081, containerPort: 80, protocol: "tcp" }] } }));
  assert.deepEqual(runtimeConfigValue(c, "aliases"), { "cnit-pod": ["a1b2c3"] });
});

test("a prevResult of another version than the config is read in its own shape", () => {
  const c = parseNetConf(JSON.stringify({ cniVersion: "1.0.0", name: "n", type: "t", prevResult: { cniVersion: "0.4.0", ips: [{ version: "4", address: "10.0.0.3/32" }] } }));
  assert.equal(c.prevResultVersion, "0.4.0");
  assert.deepEqual(c.prevResult, { ips: [{ address: "10.0.0.3/32" }] });
});

test("malformed and truncated JSON are code 6", () => {
  for (const text of ["", "{", '{"cniVersion":"1.0.0","name":"n","type":"t"', "not json", "[1,2]", "null", '"str"', "42"]) {
    assert.equal(codeOf(() => parseNetConf(text)).code, 6, text);
  }
});

test("missing or unsupported cniVersion is code 1", () => {
  assert.equal(codeOf(() => parseNetConf('{"name":"n","type":"t"}')).code, 1);
  for (const v of ["0.1.0", "0.2.0", "2.0.0", "1.0", "latest"]) {
    assert.equal(codeOf(() => parseNetConf(JSON.stringify({ cniVersion: v, name: "n", type: "t" }))).code, 1, v);
  }
  assert.equal(codeOf(() => parseNetConf('{"cniVersion":"1.0.0","name":"n","type":"t"}', { supportedVersions: ["0.4.0"] })).code, 1);
});

test("missing fields and wrong types are code 7", () => {
  const base = { cniVersion: "1.0.0", name: "n", type: "t" };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ cniVersion: 1, name: "n", type: "t" }, /cniVersion must be a string/],
    [{ cniVersion: "1.0.0", type: "t" }, /missing network name/],
    [{ cniVersion: "1.0.0", name: "", type: "t" }, /missing network name/],
    [{ cniVersion: "1.0.0", name: "n" }, /missing plugin type/],
    [{ ...base, name: 5 }, /name must be a string/],
    [{ ...base, name: "-bad" }, /invalid network name/],
    [{ ...base, type: "../evil" }, /invalid type/],
    [{ ...base, type: ["t"] }, /type must be a string/],
    [{ ...base, capabilities: { portMappings: "yes" } }, /capabilities.portMappings/],
    [{ ...base, capabilities: [] }, /capabilities must be an object/],
    [{ ...base, runtimeConfig: "x" }, /runtimeConfig must be an object/],
    [{ ...base, args: 1 }, /args must be an object/],
    [{ ...base, ipMasq: "true" }, /ipMasq must be a boolean/],
    [{ ...base, ipam: "host-local" }, /ipam must be an object/],
    [{ ...base, ipam: { type: 1 } }, /ipam.type must be a string/],
    [{ ...base, dns: { search: "a" } }, /dns.search/],
    [{ ...base, prevResult: "x" }, /prevResult/],
    [{ ...base, prevResult: { ips: [{ address: "10.0.0.1" }] } }, /prevResult.ips\[0\].address/],
  ];
  for (const [conf, re] of cases) {
    const e = codeOf(() => parseNetConf(JSON.stringify(conf)));
    assert.equal(e.code, 7, JSON.stringify(conf));
    assert.match(e.msg, re);
  }
});

test("null optional fields are treated as absent (Go's encoding/json)", () => {
  const c = parseNetConf('{"cniVersion":"1.0.0","name":"n","type":"t","ipam":null,"dns":null,"prevResult":null,"runtimeConfig":null}');
  assert.equal(c.ipam, undefined);
  assert.equal(c.prevResult, undefined);
});

// The reference's conflist (vpc-cni-reference §1.3) in the shape the agent writes.
const awsList = {
  cniVersion: "0.4.0",
  name: "aws-cni",
  disableCheck: true,
  plugins: [
    { name: "aws-cni", type: "aws-cni", vethPrefix: "eni", mtu: "9001", capabilities: { "io.kubernetes.cri.pod-annotations": true } },
    { type: "portmap", capabilities: { portMappings: true }, snat: true },
  ],
};

test("conflist parsing", () => {
  const l = parseConfList(JSON.stringify(awsList));
  assert.equal(l.cniVersion, "0.4.0");
  assert.equal(l.name, "aws-cni");
  assert.equal(l.disableCheck, true);
  assert.equal(l.disableGC, false);
  assert.equal(l.plugins.length, 2);
  assert.equal(parseConfList({ ...awsList, disableCheck: "false", disableGC: "true" }).disableGC, true);
  assert.equal(parseConfList({ ...awsList, cniVersion: "1.1.0", loadOnlyInlinedPlugins: true }).loadOnlyInlinedPlugins, true);
});

test("conflist cniVersions negotiation (1.1.0)", () => {
  const l = parseConfList({ ...awsList, cniVersion: "1.0.0", cniVersions: ["1.0.0", "1.1.0", "9.0.0"] });
  assert.equal(l.cniVersion, "1.1.0");
  assert.deepEqual(l.cniVersions, ["1.0.0", "1.1.0", "9.0.0"]);
  assert.equal(parseConfList({ ...awsList, cniVersion: undefined, cniVersions: ["1.0.0"] }).cniVersion, "1.0.0");
  assert.equal(codeOf(() => parseConfList({ ...awsList, cniVersions: ["9.0.0"], cniVersion: "0.2.0" })).code, 1);
});

test("bad conflists", () => {
  assert.equal(codeOf(() => parseConfList("{")).code, 6);
  assert.equal(codeOf(() => parseConfList({ name: "x", plugins: [{ type: "t" }] })).code, 1);
  assert.equal(codeOf(() => parseConfList({ ...awsList, plugins: [] })).code, 7);
  assert.equal(codeOf(() => parseConfList({ cniVersion: "1.0.0", name: "n", type: "bridge" })).code, 7); // 1.0.0: no non-list configs
  assert.equal(codeOf(() => parseConfList({ ...awsList, plugins: [{ name: "x" }] })).code, 7);
  assert.equal(codeOf(() => parseConfList({ ...awsList, plugins: ["portmap"] })).code, 7);
  assert.equal(codeOf(() => parseConfList({ ...awsList, disableCheck: "yes" })).code, 7);
  assert.equal(codeOf(() => parseConfList({ ...awsList, cniVersions: "1.0.0" })).code, 7);
});

test("execution config derivation: name/version inserted, capabilities become runtimeConfig", () => {
  const l = parseConfList(JSON.stringify(awsList));
  const prev = { cniVersion: "0.4.0", ips: [{ version: "4", address: "10.0.0.9/32" }] };
  const c = execConfig(l, 1, { capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }], bandwidth: {} }, prevResult: prev });
  assert.deepEqual(c, {
    cniVersion: "0.4.0",
    name: "aws-cni",
    type: "portmap",
    snat: true,
    runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }] },
    prevResult: prev,
  });
  const first = execConfig(l, 0, { capabilityArgs: { portMappings: [] } });
  assert.equal(first["runtimeConfig"], undefined);
  assert.equal(first["capabilities"], undefined);
  assert.equal(parseNetConf(first).type, "aws-cni");
  assert.throws(() => execConfig(l, 2), RangeError);
});
