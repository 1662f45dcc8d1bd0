// The conflist the agent writes: aws-node's 10-aws.conflist's chain (vpc-cni, egress-cni, portmap, then
// bandwidth and tuning when asked for), egress-cni's entry as the reference renders it on IPv6 and
// IPv4 nodes, and the executables installed beside each other.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadConfig, type AgentConfig } from "./config.ts";
import { conflist, installPlugins, writeConflist } from "./cni-install.ts";

function config(env: Record<string, string>): AgentConfig {
  const result = loadConfig({ AWS_VPC_K8S_PLUGIN_LOG_FILE: "/var/log/p.log", ...env });
  assert.ok(result.ok);
  return result.config;
}

const V6 = { ENABLE_IPv4: "false", ENABLE_IPv6: "true", ENABLE_PREFIX_DELEGATION: "true" };
const NODE = { ipv4: "10.0.0.12", ipv6: "2600:1f10:0:0::c" };
const types = (list: any) => list.plugins.map((p: { type: string }) => p.type);

describe("the conflist", () => {
  it("on an IPv6 node: egress-cni enabled, IPv4 egress from 169.254.172.0/22 SNATed to the node's IPv4", () => {
    const list = conflist(config({ ...V6, POD_MTU: "1500" }), NODE) as any;
    assert.deepEqual(types(list), ["vpc-cni", "egress-cni", "portmap"]);
    assert.deepEqual(list.plugins[1], {
      name: "egress-cni",
      type: "egress-cni",
      mtu: "1500",
      enabled: "true",
      randomizeSNAT: "prng",
      nodeIP: "10.0.0.12",
      ipam: { type: "host-local", ranges: [[{ subnet: "169.254.172.0/22" }]], routes: [{ dst: "0.0.0.0/0" }], dataDir: "/run/cni/v6pd/egress-v4-ipam" },
      pluginLogFile: "/var/log/aws-routed-eni/egress-v4-plugin.log",
      pluginLogLevel: "debug",
    });
  });

  it("on an IPv6 node with ENABLE_V4_EGRESS=false: egress-cni passes through", () => {
    const list = conflist(config({ ...V6, ENABLE_V4_EGRESS: "false" }), NODE) as any;
    assert.equal(list.plugins[1].enabled, "false");
  });

  it("on an IPv4 node: egress-cni disabled, with the reference's IPv6 placeholders", () => {
    const list = conflist(config({}), NODE) as any;
    assert.deepEqual(types(list), ["vpc-cni", "egress-cni", "portmap"]);
    assert.equal(list.plugins[1].enabled, "false");
    assert.equal(list.plugins[1].nodeIP, "2600:1f10:0:0::c");
    assert.deepEqual(list.plugins[1].ipam, { type: "host-local", ranges: [[{ subnet: "fd00::ac:00/118" }]], routes: [{ dst: "::/0" }], dataDir: "/run/cni/v4pd/egress-v6-ipam" });
  });

  it("on an IPv4 node with ENABLE_V6_EGRESS: IPv6 egress SNATed to the node's IPv6; none without one, with a warning", () => {
    const list = conflist(config({ ENABLE_V6_EGRESS: "true" }), NODE) as any;
    assert.equal(list.plugins[1].enabled, "true");
    assert.equal(list.plugins[1].nodeIP, NODE.ipv6);
    const warnings: string[] = [];
    const without = conflist(config({ ENABLE_V6_EGRESS: "true" }), { ipv4: NODE.ipv4 }, (w) => warnings.push(w)) as any;
    assert.equal(without.plugins[1].enabled, "false");
    assert.deepEqual(warnings, ["ENABLE_V6_EGRESS=true but the node has no IPv6 address in instance metadata: IPv6 egress for pods is disabled"]);
  });

  it("bandwidth and tuning after portmap when asked for", () => {
    const list = conflist(config({ ...V6, ENABLE_BANDWIDTH_PLUGIN: "true", DISABLE_POD_V6: "true" }), NODE) as any;
    assert.deepEqual(types(list), ["vpc-cni", "egress-cni", "portmap", "bandwidth", "tuning"]);
    assert.deepEqual(list.plugins[3], { type: "bandwidth", capabilities: { bandwidth: true } });
    assert.deepEqual(list.plugins[4].sysctl, { "net.ipv6.conf.all.disable_ipv6": "1", "net.ipv6.conf.default.disable_ipv6": "1", "net.ipv6.conf.lo.disable_ipv6": "1" });
  });

  it("is written atomically and the executables installed side by side", () => {
    const dir = mkdtempSync(join(tmpdir(), "vpc-cni-install-"));
    try {
      const src = join(dir, "dist");
      const bin = join(dir, "bin");
      mkdirSync(src);
      writeFileSync(join(src, "vpc-cni"), "#!/bin/sh\n");
      writeFileSync(join(src, "egress-cni"), "#!/bin/sh\n");
      assert.deepEqual(installPlugins(join(src, "vpc-cni"), bin), [join(bin, "vpc-cni"), join(bin, "egress-cni")]);
      assert.equal(statSync(join(bin, "egress-cni")).mode & 0o777, 0o755);
      const cfg = config({ ...V6, VPC_CNI_CONF_DIR: join(dir, "net.d") });
      const written = writeConflist(cfg, NODE);
      assert.deepEqual(JSON.parse(readFileSync(written, "utf8")), conflist(cfg, NODE));
      rmSync(join(src, "egress-cni"));
      assert.throws(() => installPlugins(join(src, "vpc-cni"), bin), /egress-cni does not exist \(build it with: npm run build\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
