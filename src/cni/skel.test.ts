import { test } from "node:test";
import assert from "node:assert/strict";
import { CniError, pluginNotAvailable, limitedConnectivity } from "./errors.ts";
import type { Result } from "./result.ts";
import { runPlugin } from "./skel.ts";
import type { GcRequest, PluginHandlers, PluginRequest, RunOutput } from "./skel.ts";

const ID = "3f6940ab5ab43bc522569d15b23f8c1bbde1d7678b080398506924fc01d72755";
const NETNS = "/run/netns/netns-1b2c";
const ALL = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"];

const RESULT: Result = {
  interfaces: [{ name: "enib2a9c1f00d1", mac: "aa:bb:cc:00:00:01" }, { name: "eth0", mac: "aa:bb:cc:00:00:02", sandbox: NETNS }],
  ips: [{ interface: 1, address: "10.0.1.7/32" }],
  routes: [{ dst: "0.0.0.0/0", gw: "169.254.1.1" }],
};

type Call = { cmd: string; req: PluginRequest | GcRequest };

function recorder(overrides: Partial<PluginHandlers> = {}): { handlers: PluginHandlers; calls: Call[] } {
  const calls: Call[] = [];
  const handlers: PluginHandlers = {
    add: (req) => {
      calls.push({ cmd: "add", req });
      return overrides.add ? overrides.add(req) : RESULT;
    },
    del: (req) => {
      calls.push({ cmd: "del", req });
      return overrides.del?.(req);
    },
    check: (req) => {
      calls.push({ cmd: "check", req });
      return overrides.check?.(req);
    },
    status: (req) => {
      calls.push({ cmd: "status", req });
      return overrides.status?.(req);
    },
    gc: (req) => {
      calls.push({ cmd: "gc", req });
      return overrides.gc?.(req);
    },
  };
  return { handlers, calls };
}

const env = (command: string, extra: Record<string, string | undefined> = {}) => ({
  CNI_COMMAND: command, CNI_CONTAINERID: ID, CNI_NETNS: NETNS, CNI_IFNAME: "eth0", CNI_PATH: "/opt/cni/bin", ...extra,
});
const conf = (version: string, extra: Record<string, unknown> = {}) => JSON.stringify({ cniVersion: version, name: "vpc-net", type: "vpc-cni", mtu: 9001, ...extra });

function errorOf(out: RunOutput): { cniVersion: string; code: number; msg: string; details?: string } {
  assert.equal(out.exitCode, 1);
  assert.ok(out.stdout.endsWith("\n") && out.stdout.indexOf("\n") === out.stdout.length - 1, "exactly one line on stdout");
  return JSON.parse(out.stdout);
}

test("podman's dummy VERSION probe answers at once, with no handler call", async () => {
  const { handlers, calls } = recorder();
  const out = await runPlugin({
    env: { CNI_COMMAND: "VERSION", CNI_CONTAINERID: "", CNI_NETNS: "dummy", CNI_IFNAME: "dummy", CNI_PATH: "dummy" },
    stdin: '{"cniVersion":"1.0.0"}',
    handlers,
  });
  assert.deepEqual(out, { stdout: '{"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}\n', exitCode: 0 });
  assert.equal(calls.length, 0);
});

test("VERSION with empty, junk or unsupported-version stdin still answers", async () => {
  const { handlers } = recorder();
  for (const [stdin, label] of [["", "1.1.0"], ["{", "1.1.0"], ['{"cniVersion":"0.2.0"}', "0.2.0"], ["null", "1.1.0"]] as const) {
    const out = await runPlugin({ env: { CNI_COMMAND: "VERSION" }, stdin, handlers });
    assert.equal(out.exitCode, 0);
    assert.equal(JSON.parse(out.stdout).cniVersion, label);
  }
  const limited = await runPlugin({ env: { CNI_COMMAND: "VERSION" }, stdin: "", handlers, options: { supportedVersions: ["0.4.0", "1.0.0"] } });
  assert.equal(limited.stdout, '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}\n');
});

test("ADD prints the result in the config's version, exact JSON", async () => {
  const expected: Record<string, string> = {
    "0.3.0": '{"cniVersion":"0.3.0","interfaces":[{"name":"enib2a9c1f00d1","mac":"aa:bb:cc:00:00:01"},{"name":"eth0","mac":"aa:bb:cc:00:00:02","sandbox":"/run/netns/netns-1b2c"}],"ips":[{"version":"4","interface":1,"address":"10.0.1.7/32"}],"routes":[{"dst":"0.0.0.0/0","gw":"169.254.1.1"}]}\n',
    "1.0.0": '{"cniVersion":"1.0.0","interfaces":[{"name":"enib2a9c1f00d1","mac":"aa:bb:cc:00:00:01"},{"name":"eth0","mac":"aa:bb:cc:00:00:02","sandbox":"/run/netns/netns-1b2c"}],"ips":[{"interface":1,"address":"10.0.1.7/32"}],"routes":[{"dst":"0.0.0.0/0","gw":"169.254.1.1"}]}\n',
  };
  expected["0.3.1"] = expected["0.3.0"]!.replace('"0.3.0"', '"0.3.1"');
  expected["0.4.0"] = expected["0.3.0"]!.replace('"0.3.0"', '"0.4.0"');
  expected["1.1.0"] = expected["1.0.0"]!.replace('"1.0.0"', '"1.1.0"');
  for (const v of ALL) {
    const { handlers, calls } = recorder();
    const out = await runPlugin({ env: env("ADD", { CNI_ARGS: "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=" + ID + ";K8S_POD_UID=u1" }), stdin: conf(v), handlers });
    assert.deepEqual(out, { stdout: expected[v], exitCode: 0 }, v);
    const req = calls[0]!.req;
    assert.equal(req.command, "ADD");
    assert.equal(req.config.cniVersion, v);
    assert.equal(req.config.raw["mtu"], 9001);
    assert.equal(req.args.podName, "web-0");
    assert.equal(req.env.netns, NETNS);
    assert.equal(req.stdin, conf(v));
  }
});

test("ADD with podman's CNI_ARGS in any order", async () => {
  const pairs = ["MAC=0a:58:0a:7b:06:09", "K8S_POD_NAME=cnit-web", "IgnoreUnknown=1", "IP=10.123.6.9"];
  for (const order of [pairs, [...pairs].reverse()]) {
    const { handlers, calls } = recorder();
    const out = await runPlugin({ env: env("ADD", { CNI_ARGS: order.join(";") }), stdin: conf("1.0.0"), handlers });
    assert.equal(out.exitCode, 0);
    assert.deepEqual([calls[0]!.req.args.ip, calls[0]!.req.args.mac, calls[0]!.req.args.podName], ["10.123.6.9", "0a:58:0a:7b:06:09", "cnit-web"]);
  }
});

test("handler errors: CniError keeps its code; others are 999; labelled with the config version", async () => {
  const { handlers } = recorder({ add: () => { throw new CniError(100, "failed to assign an IP address to container", "pool empty"); } });
  assert.deepEqual(errorOf(await runPlugin({ env: env("ADD"), stdin: conf("0.4.0"), handlers })), { cniVersion: "0.4.0", code: 100, msg: "failed to assign an IP address to container", details: "pool empty" });
  const r2 = recorder({ add: async () => { throw new Error("netlink: file exists"); } });
  assert.deepEqual(errorOf(await runPlugin({ env: env("ADD"), stdin: conf("1.0.0"), handlers: r2.handlers })), { cniVersion: "1.0.0", code: 999, msg: "netlink: file exists" });
  const r3 = recorder({ add: () => undefined as unknown as Result });
  assert.equal(errorOf(await runPlugin({ env: env("ADD"), stdin: conf("1.0.0"), handlers: r3.handlers })).code, 999);
});

test("DEL with an empty CNI_NETNS and no prevResult succeeds silently", async () => {
  const { handlers, calls } = recorder();
  const out = await runPlugin({ env: env("DEL", { CNI_NETNS: "", CNI_PATH: undefined }), stdin: conf("1.0.0"), handlers });
  assert.deepEqual(out, { stdout: "", exitCode: 0 });
  assert.equal(calls[0]!.req.env.netns, "");
  assert.equal(calls[0]!.req.config.prevResult, undefined);
});

test("DEL from podman cleanup: minimal env, prevResult from the cache", async () => {
  const { handlers, calls } = recorder();
  const prevResult = { cniVersion: "1.0.0", interfaces: [{ name: "eth0", sandbox: NETNS }], ips: [{ interface: 0, address: "10.0.1.7/32" }] };
  const out = await runPlugin({
    env: { CNI_COMMAND: "DEL", CNI_CONTAINERID: ID, CNI_NETNS: NETNS, CNI_IFNAME: "eth0", CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAME=cnit-web", PATH: "/usr/bin", HOME: "/root" },
    stdin: conf("1.0.0", { prevResult }),
    handlers,
  });
  assert.deepEqual(out, { stdout: "", exitCode: 0 });
  assert.deepEqual(calls[0]!.req.config.prevResult, { interfaces: [{ name: "eth0", sandbox: NETNS }], ips: [{ interface: 0, address: "10.0.1.7/32" }] });
});

test("CHECK: needs 0.4.0+ and a prevResult; success prints nothing", async () => {
  const prevResult = { cniVersion: "0.4.0", ips: [{ version: "4", address: "10.0.1.7/32" }] };
  const { handlers, calls } = recorder();
  assert.deepEqual(await runPlugin({ env: env("CHECK"), stdin: conf("0.4.0", { prevResult }), handlers }), { stdout: "", exitCode: 0 });
  assert.equal(errorOf(await runPlugin({ env: env("CHECK"), stdin: conf("0.3.1", { prevResult }), handlers })).code, 1);
  assert.equal(errorOf(await runPlugin({ env: env("CHECK"), stdin: conf("1.0.0"), handlers })).code, 7);
  assert.equal(calls.length, 1);
  const drifted = recorder({ check: () => { throw new CniError(100, "route 10.0.1.7/32 missing"); } });
  assert.equal(errorOf(await runPlugin({ env: env("CHECK"), stdin: conf("1.0.0", { prevResult }), handlers: drifted.handlers })).msg, "route 10.0.1.7/32 missing");
  const { check: _omit, ...noCheck } = recorder().handlers;
  assert.deepEqual(await runPlugin({ env: env("CHECK"), stdin: conf("1.0.0", { prevResult }), handlers: noCheck }), { stdout: "", exitCode: 0 });
});

test("STATUS: 1.1.0 only, no container env, codes 50/51 from the handler", async () => {
  const ready = recorder();
  assert.deepEqual(await runPlugin({ env: { CNI_COMMAND: "STATUS" }, stdin: conf("1.1.0"), handlers: ready.handlers }), { stdout: "", exitCode: 0 });
  assert.equal(ready.calls[0]!.cmd, "status");
  assert.equal(errorOf(await runPlugin({ env: { CNI_COMMAND: "STATUS" }, stdin: conf("1.0.0"), handlers: ready.handlers })).code, 1);
  assert.equal(ready.calls.length, 1);
  const down = recorder({ status: () => { throw pluginNotAvailable("agent not reachable"); } });
  assert.deepEqual(errorOf(await runPlugin({ env: { CNI_COMMAND: "STATUS" }, stdin: conf("1.1.0"), handlers: down.handlers })), { cniVersion: "1.1.0", code: 50, msg: "agent not reachable" });
  const limited = recorder({ status: async () => { throw limitedConnectivity("datapath broken"); } });
  assert.equal(errorOf(await runPlugin({ env: { CNI_COMMAND: "STATUS" }, stdin: conf("1.1.0"), handlers: limited.handlers })).code, 51);
});

test("GC: valid attachments reach the handler; absent means none", async () => {
  const { handlers, calls } = recorder();
  const out = await runPlugin({ env: { CNI_COMMAND: "GC", CNI_PATH: "/opt/cni/bin" }, stdin: conf("1.1.0", { "cni.dev/valid-attachments": [{ containerID: ID, ifname: "eth0" }] }), handlers });
  assert.deepEqual(out, { stdout: "", exitCode: 0 });
  assert.deepEqual((calls[0]!.req as GcRequest).validAttachments, [{ containerID: ID, ifname: "eth0" }]);
  await runPlugin({ env: { CNI_COMMAND: "GC" }, stdin: conf("1.1.0"), handlers });
  assert.deepEqual((calls[1]!.req as GcRequest).validAttachments, []);
  assert.equal(errorOf(await runPlugin({ env: { CNI_COMMAND: "GC" }, stdin: conf("1.0.0"), handlers })).code, 1);
  assert.equal(errorOf(await runPlugin({ env: { CNI_COMMAND: "GC" }, stdin: conf("1.1.0", { "cni.dev/valid-attachments": {} }), handlers })).code, 7);
  assert.equal(calls.length, 2);
});

test("every bad input class gets its code, one error object, and no handler call", async () => {
  const cases: { name: string; env: Record<string, string | undefined>; stdin: string; code: number; label: string; msg?: RegExp }[] = [
    { name: "malformed stdin", env: env("ADD"), stdin: "not json", code: 6, label: "1.1.0" },
    { name: "truncated stdin", env: env("ADD"), stdin: conf("1.0.0").slice(0, 30), code: 6, label: "1.1.0" },
    { name: "empty stdin", env: env("ADD"), stdin: "", code: 6, label: "1.1.0" },
    { name: "stdin is an array", env: env("ADD"), stdin: "[]", code: 6, label: "1.1.0" },
    { name: "wrong type for name", env: env("ADD"), stdin: JSON.stringify({ cniVersion: "1.0.0", name: 7, type: "t" }), code: 7, label: "1.0.0", msg: /name must be a string/ },
    { name: "wrong type for ipam", env: env("ADD"), stdin: conf("1.0.0", { ipam: [] }), code: 7, label: "1.0.0" },
    { name: "wrong type for cniVersion", env: env("ADD"), stdin: JSON.stringify({ cniVersion: 1, name: "n", type: "t" }), code: 7, label: "1.1.0" },
    { name: "bad prevResult", env: env("DEL"), stdin: conf("1.0.0", { prevResult: { ips: "x" } }), code: 7, label: "1.0.0" },
    { name: "missing name", env: env("ADD"), stdin: JSON.stringify({ cniVersion: "1.0.0", type: "t" }), code: 7, label: "1.0.0", msg: /missing network name/ },
    { name: "missing type", env: env("ADD"), stdin: JSON.stringify({ cniVersion: "1.0.0", name: "n" }), code: 7, label: "1.0.0" },
    { name: "unsupported version", env: env("ADD"), stdin: conf("0.2.0"), code: 1, label: "0.2.0", msg: /incompatible CNI versions/ },
    { name: "future version", env: env("ADD"), stdin: conf("2.0.0"), code: 1, label: "2.0.0" },
    { name: "missing cniVersion", env: env("ADD"), stdin: JSON.stringify({ name: "n", type: "t" }), code: 1, label: "1.1.0" },
    { name: "missing CNI_COMMAND", env: env("ADD", { CNI_COMMAND: undefined }), stdin: conf("1.0.0"), code: 4, label: "1.0.0" },
    { name: "unknown command", env: env("FROB"), stdin: conf("1.0.0"), code: 4, label: "1.0.0", msg: /unknown CNI_COMMAND: FROB/ },
    { name: "missing netns on ADD", env: env("ADD", { CNI_NETNS: undefined }), stdin: conf("1.0.0"), code: 4, label: "1.0.0", msg: /CNI_NETNS/ },
    { name: "missing container id on DEL", env: env("DEL", { CNI_CONTAINERID: "" }), stdin: conf("1.0.0"), code: 4, label: "1.0.0", msg: /CNI_CONTAINERID/ },
    { name: "bad ifname", env: env("ADD", { CNI_IFNAME: "eth0:1" }), stdin: conf("1.0.0"), code: 4, label: "1.0.0" },
    { name: "bad container id", env: env("ADD", { CNI_CONTAINERID: "../x" }), stdin: conf("1.0.0"), code: 4, label: "1.0.0" },
    { name: "unknown CNI_ARGS key", env: env("ADD", { CNI_ARGS: "K8S_POD_NAME=a;FOO=b" }), stdin: conf("1.0.0"), code: 4, label: "1.0.0", msg: /CNI_ARGS/ },
    { name: "malformed CNI_ARGS", env: env("DEL", { CNI_ARGS: "garbage" }), stdin: conf("1.0.0"), code: 4, label: "1.0.0" },
  ];
  for (const c of cases) {
    const { handlers, calls } = recorder();
    const e = errorOf(await runPlugin({ env: c.env, stdin: c.stdin, handlers }));
    assert.equal(e.code, c.code, c.name);
    assert.equal(e.cniVersion, c.label, c.name);
    if (c.msg) assert.match(e.msg, c.msg, c.name);
    assert.equal(calls.length, 0, c.name);
  }
});

test("oversize stdin is an I/O failure (5)", async () => {
  const { handlers, calls } = recorder();
  const e = errorOf(await runPlugin({ env: env("ADD"), stdin: conf("1.0.0", { pad: "x".repeat(2000) }), handlers, options: { maxStdinBytes: 1024 } }));
  assert.equal(e.code, 5);
  assert.equal(calls.length, 0);
});

test("plugin-specific CNI_ARGS keys and a narrowed version list", async () => {
  const { handlers, calls } = recorder();
  const out = await runPlugin({ env: env("ADD", { CNI_ARGS: "VETH_PREFIX=eni" }), stdin: conf("1.0.0"), handlers, options: { argsKeys: ["VETH_PREFIX"], supportedVersions: ["1.0.0"] } });
  assert.equal(out.exitCode, 0);
  assert.equal(calls[0]!.req.args.all["VETH_PREFIX"], "eni");
  assert.equal(errorOf(await runPlugin({ env: env("ADD"), stdin: conf("0.4.0"), handlers, options: { supportedVersions: ["1.0.0"] } })).code, 1);
});
