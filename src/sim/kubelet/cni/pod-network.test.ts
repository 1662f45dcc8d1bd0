// The sandbox network calls the CNI chain exactly as containerd's CRI (go-cni over libcni) does:
// environment, CNI_ARGS, stdin (Go-marshalled, with name, cniVersion, prevResult and the declared
// capabilities' runtimeConfig), the result cache, DEL in reverse with the cached result, CHECK,
// STATUS before ADD for 1.1.0 lists, and GC. Checked against a fake plugin that records its input.

import { afterEach, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FakePlugins } from "./fake-plugin.test-support.ts";
import { PodNetwork, type SandboxNetworkSpec } from "./pod-network.ts";

const ID = "a".repeat(64);
const NETNS = "/var/run/netns/vs-t-cni-1";

function spec(over: Partial<SandboxNetworkSpec> = {}): SandboxNetworkSpec {
  return {
    id: ID,
    netns: NETNS,
    namespace: "default",
    name: "web-0",
    uid: "0b4e9c1e-0000-4000-8000-000000000001",
    annotations: { "kubernetes.io/config.source": "api", note: "<a & b>" },
    portMappings: [],
    ...over,
  };
}

const LO_RESULT = { cniVersion: "0.3.1", interfaces: [{ name: "lo", mac: "00:00:00:00:00:00", sandbox: NETNS }], ips: [{ version: "4", interface: 0, address: "127.0.0.1/8" }], dns: {} };
const MAIN_RESULT = {
  cniVersion: "1.0.0",
  interfaces: [{ name: "enia1b2c3d4e5f", mac: "aa:bb:cc:dd:ee:01" }, { name: "eth0", mac: "aa:bb:cc:dd:ee:02", sandbox: NETNS }],
  ips: [{ address: "10.0.1.23/32", interface: 1 }],
  routes: [{ dst: "0.0.0.0/0", gw: "169.254.1.1" }],
  dns: {},
};

describe("pod network (containerd CRI over go-cni/libcni)", () => {
  let fake: FakePlugins;
  let confDir: string;
  let cacheDir: string;
  let net: PodNetwork;

  beforeEach(() => {
    fake = new FakePlugins(["loopback", "main", "chained", "plain"]);
    confDir = join(fake.dir, "net.d");
    cacheDir = join(fake.dir, "cache");
    mkdirSync(confDir);
    net = new PodNetwork(confDir, {
      path: [fake.binDir, "/nonexistent/cni/bin"],
      cacheDir,
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", FAKE_CNI_DIR: fake.dir },
      timeoutMs: 30_000,
    });
    fake.answer("loopback", "ADD", LO_RESULT);
    fake.answer("main", "ADD", MAIN_RESULT);
    fake.answer("chained", "ADD", MAIN_RESULT);
    fake.answer("plain", "ADD", MAIN_RESULT);
  });
  afterEach(() => fake.remove());

  const writeConf = (file: string, conf: object | string) => writeFileSync(join(confDir, file), typeof conf === "string" ? conf : JSON.stringify(conf, null, 2));
  const chain = (cniVersion = "1.0.0", extra: object = {}) => ({
    cniVersion,
    name: "aws-cni",
    ...extra,
    plugins: [
      { type: "main", name: "aws-cni", mtu: "9001", capabilities: { "io.kubernetes.cri.pod-annotations": true } },
      { type: "chained", capabilities: { portMappings: true }, snat: true },
    ],
  });

  test("no config yet: the node's network is not ready, with containerd's words", async () => {
    assert.deepEqual(await net.status(), { ready: false, reason: "NetworkPluginNotReady", message: "Network plugin returns error: cni plugin not initialized" });
    await assert.rejects(net.setup(spec()), /^Error: cni plugin not initialized$/);
    assert.equal(fake.takeCalls().length, 0);
    writeConf("10-aws.conflist", chain());
    assert.equal((await net.status()).ready, true);
  });

  test("ADD: environment, CNI_ARGS and stdin of every plugin are containerd's", async () => {
    writeConf("10-aws.conflist", chain());
    const { ips } = await net.setup(spec({ portMappings: [{ hostPort: 8080, containerPort: 80, protocol: "TCP", hostIP: "" }] }));
    assert.deepEqual(ips, ["10.0.1.23"]);
    const calls = fake.takeCalls();
    assert.deepEqual(calls.map((c) => c.type).sort(), ["chained", "loopback", "main"]);
    for (const c of calls) {
      assert.equal(c.env["CNI_COMMAND"], "ADD");
      assert.equal(c.env["CNI_CONTAINERID"], ID);
      assert.equal(c.env["CNI_NETNS"], NETNS);
      assert.equal(c.env["CNI_IFNAME"], c.type === "loopback" ? "lo" : "eth0");
      assert.equal(c.env["CNI_PATH"], `${fake.binDir}:/nonexistent/cni/bin`);
      // A Go map: every label, in no particular order.
      assert.deepEqual(c.env["CNI_ARGS"]!.split(";").sort(), [
        "IgnoreUnknown=1",
        `K8S_POD_INFRA_CONTAINER_ID=${ID}`,
        "K8S_POD_NAME=web-0",
        "K8S_POD_NAMESPACE=default",
        "K8S_POD_UID=0b4e9c1e-0000-4000-8000-000000000001",
      ]);
      // The runtime's environment and the CNI variables, nothing of the caller's.
      assert.deepEqual(Object.keys(c.env).filter((k) => !["PWD", "SHLVL", "_"].includes(k)).sort(), ["CNI_ARGS", "CNI_COMMAND", "CNI_CONTAINERID", "CNI_IFNAME", "CNI_NETNS", "CNI_PATH", "FAKE_CNI_DIR", "PATH"]);
    }
    const byType = Object.fromEntries(calls.map((c) => [c.type, c.stdin]));
    assert.equal(byType["loopback"], '{"cniVersion":"0.3.1","name":"cni-loopback","type":"loopback"}');
    // Keys sorted, the list's name and version injected, only the declared capability, Go's HTML escaping.
    assert.equal(
      byType["main"],
      '{"capabilities":{"io.kubernetes.cri.pod-annotations":true},"cniVersion":"1.0.0","mtu":"9001","name":"aws-cni",' +
        '"runtimeConfig":{"io.kubernetes.cri.pod-annotations":{"kubernetes.io/config.source":"api","note":"\\u003ca \\u0026 b\\u003e"}},"type":"main"}',
    );
    // The chained plugin: prevResult (re-marshalled, so sorted) and portMappings as go-cni's untagged struct.
    assert.equal(
      byType["chained"],
      '{"capabilities":{"portMappings":true},"cniVersion":"1.0.0","name":"aws-cni",' +
        '"prevResult":{"cniVersion":"1.0.0","dns":{},"interfaces":[{"mac":"aa:bb:cc:dd:ee:01","name":"enia1b2c3d4e5f"},{"mac":"aa:bb:cc:dd:ee:02","name":"eth0","sandbox":"/var/run/netns/vs-t-cni-1"}],' +
        '"ips":[{"address":"10.0.1.23/32","interface":1}],"routes":[{"dst":"0.0.0.0/0","gw":"169.254.1.1"}]},' +
        '"runtimeConfig":{"portMappings":[{"HostPort":8080,"ContainerPort":80,"Protocol":"tcp","HostIP":""}]},"snat":true,"type":"chained"}',
    );
    // libcni's cache: the final result, with what DEL and GC need.
    const cached = JSON.parse(readFileSync(join(cacheDir, "results", `aws-cni-${ID}-eth0`), "utf8"));
    assert.equal(cached.kind, "cniCacheV1");
    assert.equal(cached.containerId, ID);
    assert.equal(cached.ifName, "eth0");
    assert.equal(cached.networkName, "aws-cni");
    assert.equal(cached.netns, NETNS);
    assert.equal(JSON.parse(Buffer.from(cached.config, "base64").toString()).name, "aws-cni");
    assert.deepEqual(cached.result.ips, MAIN_RESULT.ips);
    assert.equal(cached.cniArgs.length, 5);
    assert.ok(existsSync(join(cacheDir, "results", `cni-loopback-${ID}-lo`)));
  });

  test("without runtimeConfig, prevResult keeps the Go struct's field order", async () => {
    writeConf("10-plain.conflist", { cniVersion: "1.0.0", name: "plain", plugins: [{ type: "main" }, { type: "plain" }] });
    await net.setup(spec());
    const plain = fake.takeCalls().find((c) => c.type === "plain")!;
    assert.equal(
      plain.stdin,
      '{"cniVersion":"1.0.0","name":"plain","prevResult":{"cniVersion":"1.0.0","interfaces":[{"name":"enia1b2c3d4e5f","mac":"aa:bb:cc:dd:ee:01"},' +
        '{"name":"eth0","mac":"aa:bb:cc:dd:ee:02","sandbox":"/var/run/netns/vs-t-cni-1"}],"ips":[{"interface":1,"address":"10.0.1.23/32"}],' +
        '"routes":[{"dst":"0.0.0.0/0","gw":"169.254.1.1"}],"dns":{}},"type":"plain"}',
    );
  });

  test("DEL runs the chain in reverse with the cached result; the repeat DEL has none", async () => {
    writeConf("10-aws.conflist", chain());
    await net.setup(spec());
    fake.takeCalls();
    await net.remove(spec());
    const calls = fake.takeCalls();
    assert.deepEqual(calls.map((c) => c.type), ["loopback", "chained", "main"]);
    for (const c of calls) assert.equal(c.env["CNI_COMMAND"], "DEL");
    // 0.3.1 lists get no prevResult on DEL; 0.4.0+ get the cached one.
    assert.equal(calls[0]!.config["prevResult"], undefined);
    assert.deepEqual((calls[1]!.config["prevResult"] as any).ips, MAIN_RESULT.ips);
    assert.deepEqual((calls[2]!.config["prevResult"] as any).ips, MAIN_RESULT.ips);
    assert.ok(!existsSync(join(cacheDir, "results", `aws-cni-${ID}-eth0`)));
    // containerd's second StopPodSandbox, with the namespace gone.
    await net.remove(spec({ netns: "" }));
    const again = fake.takeCalls();
    assert.equal(again.length, 3);
    for (const c of again) {
      assert.equal(c.env["CNI_NETNS"], "");
      assert.equal(c.config["prevResult"], undefined);
    }
  });

  test("a failed ADD names the plugin and carries its message; nothing is cached", async () => {
    writeConf("10-aws.conflist", chain());
    fake.answer("chained", "ADD", { cniVersion: "1.0.0", code: 11, msg: "failed to assign an IP address to container", details: "no free address" }, 1);
    await assert.rejects(net.setup(spec()), (err: Error) => {
      assert.equal(err.message, 'plugin type="chained" failed (add): failed to assign an IP address to container; no free address');
      return true;
    });
    assert.ok(!existsSync(join(cacheDir, "results", `aws-cni-${ID}-eth0`)));
    fake.answer("main", "ADD", "", 1);
    await assert.rejects(net.setup(spec()), /plugin type="main" name="aws-cni" failed \(add\): netplugin failed with no error message: exit status 1/);
    writeConf("10-aws.conflist", { ...chain(), plugins: [{ type: "missing" }] });
    await assert.rejects(net.setup(spec()), new RegExp(`plugin type="missing" failed \\(add\\): failed to find plugin "missing" in path \\[${fake.binDir} /nonexistent/cni/bin\\]`));
  });

  test("the lexically first config file is the network; a .conf becomes a one-plugin list", async () => {
    writeConf("20-other.conflist", { ...chain(), name: "other" });
    writeConf("10-single.conf", { cniVersion: "1.0.0", name: "single", type: "main" });
    writeConf("05-ignored.txt", "not a config");
    writeConf(".00-staging.conflist.tmp", "{");
    assert.equal(net.networks().main.name, "single");
    await net.setup(spec());
    const main = fake.takeCalls().find((c) => c.type === "main")!;
    assert.equal(main.stdin, '{"cniVersion":"1.0.0","name":"single","type":"main"}');
  });

  test("a broken first file makes the network not ready and says why in the load error", async () => {
    writeConf("10-aws.conflist", '{"cniVersion":"1.0.0","name":"aws-cni","plugins":[]}');
    assert.equal((await net.status()).message, "Network plugin returns error: cni plugin not initialized");
    assert.throws(() => net.networks(), /failed to load CNI config list file .*10-aws.conflist: error parsing configuration list: no plugins in list/);
    writeConf("10-aws.conflist", '{"cniVersion":"1.0.0","plugins":[{"type":"main"}]}');
    assert.throws(() => net.networks(), /error parsing configuration list: no name/);
    writeConf("10-aws.conflist", '{"cniVersion":"1.0.0","name":"n","plugins":[{"name":"x"}]}');
    assert.throws(() => net.networks(), /failed to parse plugin config 0: error parsing configuration: missing 'type'/);
  });

  test("CHECK replays the cached result; disableCheck and pre-0.4.0 lists are honoured", async () => {
    writeConf("10-aws.conflist", chain());
    await net.setup(spec());
    fake.takeCalls();
    await net.check(spec());
    const calls = fake.takeCalls();
    assert.deepEqual(calls.map((c) => [c.type, c.env["CNI_COMMAND"]]), [["main", "CHECK"], ["chained", "CHECK"]]);
    assert.deepEqual((calls[0]!.config["prevResult"] as any).ips, MAIN_RESULT.ips);
    fake.answer("main", "CHECK", { code: 999, msg: "pod veth missing" }, 1);
    await assert.rejects(net.check(spec()), /pod veth missing/);
    writeConf("10-aws.conflist", chain("1.0.0", { disableCheck: true }));
    fake.takeCalls();
    await net.check(spec());
    assert.equal(fake.takeCalls().length, 0);
    writeConf("10-aws.conflist", chain("0.3.1"));
    await assert.rejects(net.check(spec()), /configuration version "0.3.1" does not support the CHECK command/);
  });

  test("a 1.1.0 list is asked STATUS before ADD, and its answer is the node's network status", async () => {
    writeConf("10-aws.conflist", chain("1.1.0"));
    await net.setup(spec());
    const calls = fake.takeCalls();
    assert.deepEqual(calls.slice(0, 2).map((c) => [c.type, c.env["CNI_COMMAND"], c.env["CNI_CONTAINERID"], c.env["CNI_NETNS"], c.env["CNI_IFNAME"]]), [
      ["main", "STATUS", "", "", ""],
      ["chained", "STATUS", "", "", ""],
    ]);
    assert.equal(calls[0]!.stdin, '{"capabilities":{"io.kubernetes.cri.pod-annotations":true},"cniVersion":"1.1.0","mtu":"9001","name":"aws-cni","type":"main"}');
    fake.answer("main", "STATUS", { cniVersion: "1.1.0", code: 50, msg: "the agent has no address to give" }, 1);
    await assert.rejects(net.setup(spec()), /^PluginError: the agent has no address to give$/);
    assert.deepEqual(await net.status(), { ready: false, reason: "NetworkPluginNotReady", message: "Network plugin returns error: the agent has no address to give" });
    writeConf("10-aws.conflist", chain("1.0.0"));
    fake.takeCalls();
    await net.setup(spec());
    assert.ok(!fake.takeCalls().some((c) => c.env["CNI_COMMAND"] === "STATUS"), "no STATUS for a 1.0.0 list");
  });

  test("GC deletes cached attachments of sandboxes no longer known, then sends the GC verb with the valid ones", async () => {
    writeConf("10-aws.conflist", chain("1.1.0"));
    const stale = "b".repeat(64);
    await net.setup(spec());
    await net.setup(spec({ id: stale, netns: "/var/run/netns/vs-t-cni-2", name: "gone" }));
    fake.takeCalls();
    await net.gc([ID]);
    const calls = fake.takeCalls();
    const dels = calls.filter((c) => c.env["CNI_COMMAND"] === "DEL");
    assert.deepEqual(dels.map((c) => [c.type, c.env["CNI_CONTAINERID"], c.env["CNI_IFNAME"]]).sort(), [
      ["chained", stale, "eth0"],
      ["loopback", stale, "lo"],
      ["main", stale, "eth0"],
    ]);
    // The stale attachment's own arguments, from the cache.
    assert.match(dels.find((c) => c.type === "main")!.env["CNI_ARGS"]!, /K8S_POD_NAME=gone/);
    const gcs = calls.filter((c) => c.env["CNI_COMMAND"] === "GC");
    assert.deepEqual(gcs.map((c) => c.type), ["main", "chained"]);
    assert.deepEqual(gcs[0]!.config["cni.dev/valid-attachments"], [{ containerID: ID, ifname: "eth0" }]);
    assert.ok(existsSync(join(cacheDir, "results", `aws-cni-${ID}-eth0`)));
    assert.ok(!existsSync(join(cacheDir, "results", `aws-cni-${stale}-eth0`)));
    writeConf("10-aws.conflist", chain("1.1.0", { disableGC: true }));
    await net.gc([ID]);
    assert.equal(fake.takeCalls().length, 0);
  });

  test("cniVersions: the highest version libcni implements is chosen", () => {
    writeConf("10-aws.conflist", { ...chain("0.4.0"), cniVersions: ["1.0.0", "1.1.0", "2.0.0"] });
    assert.equal(net.networks().main.cniVersion, "1.1.0");
  });

  test("bandwidth annotations become the bandwidth capability; bad values fail before any ADD", async () => {
    writeConf("10-bw.conflist", { cniVersion: "1.0.0", name: "bw", plugins: [{ type: "main" }, { type: "plain", capabilities: { bandwidth: true } }] });
    await net.setup(spec({ annotations: { "kubernetes.io/ingress-bandwidth": "10M" } }));
    const plain = fake.takeCalls().find((c) => c.type === "plain")!;
    assert.match(plain.stdin, /"runtimeConfig":\{"bandwidth":\{"IngressRate":10000000,"IngressBurst":4294967295,"EgressRate":0,"EgressBurst":0\}\}/);
    await assert.rejects(net.setup(spec({ annotations: { "kubernetes.io/egress-bandwidth": "10" } })), /get cni namespace options: reading pod bandwidth annotations: resource is unreasonably small/);
    assert.equal(fake.takeCalls().length, 0);
  });

  test("an IP without a matching interface is refused as go-cni does", async () => {
    writeConf("10-aws.conflist", chain());
    fake.answer("chained", "ADD", { ...MAIN_RESULT, ips: [{ address: "10.0.1.23/32", interface: 5 }] });
    await assert.rejects(net.setup(spec()), /interface number 5 is > number of interfaces 2/);
    fake.answer("chained", "ADD", { ...MAIN_RESULT, ips: [{ address: "10.0.1.23/32", interface: 0 }] });
    await assert.rejects(net.setup(spec()), new RegExp(`failed to find network info for sandbox "${ID}"`));
  });

});
