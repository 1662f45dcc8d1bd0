// IPv6 nodes and the conflist's chain in the configuration: the reference's rules (exactly one of
// IPv4/IPv6, IPv6 only with prefix delegation and without custom networking), each refusal naming the
// variable and what is allowed, the message the agent stops with, and the egress and chain variables.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatConfigErrors, loadConfig } from "./config.ts";

const V6 = { ENABLE_IPv4: "false", ENABLE_IPv6: "true", ENABLE_PREFIX_DELEGATION: "true" };

function refusal(env: Record<string, string>): string {
  const result = loadConfig(env);
  assert.equal(result.ok, false, `expected ${JSON.stringify(env)} to be refused`);
  return result.ok ? "" : formatConfigErrors(result.errors);
}

describe("IPv6 configurations refused, with the reference's reasons", () => {
  it("both families: dual-stack pods are not supported", () => {
    assert.equal(
      refusal({ ENABLE_IPv6: "true", ENABLE_PREFIX_DELEGATION: "true" }),
      'invalid configuration, 1 variable refused:\n  ENABLE_IPv6="true" (with ENABLE_IPv4="true"): allowed: false while ENABLE_IPv4 is true: dual-stack pods are not supported',
    );
  });

  it("neither family", () => {
    assert.match(refusal({ ENABLE_IPv4: "false" }), /ENABLE_IPv6=unset \(with ENABLE_IPv4="false"\): allowed: true when ENABLE_IPv4 is false: one address family must be on/);
  });

  it("IPv6 without prefix delegation", () => {
    assert.equal(
      refusal({ ENABLE_IPv4: "false", ENABLE_IPv6: "true" }),
      'invalid configuration, 1 variable refused:\n  ENABLE_PREFIX_DELEGATION=unset (with ENABLE_IPv6="true"): allowed: true when ENABLE_IPv6 is true: IPv6 pods get addresses from /80 prefixes',
    );
  });

  it("IPv6 with custom networking, and both faults at once", () => {
    assert.match(refusal({ ...V6, AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: "true" }), /AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG="true" \(with ENABLE_IPv6="true"\): allowed: false when ENABLE_IPv6 is true: custom networking is IPv4 only/);
    const both = refusal({ ENABLE_IPv4: "false", ENABLE_IPv6: "true", AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: "true" });
    assert.match(both, /^invalid configuration, 2 variables refused:/);
    assert.match(both, /ENABLE_PREFIX_DELEGATION=unset/);
    assert.match(both, /AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG="true"/);
  });

  it("an IPv6 MTU below 1280", () => {
    assert.match(refusal({ ...V6, POD_MTU: "1279" }), /POD_MTU="1279": allowed: a whole number 1280\.\.9001 \(the IPv6 range\)/);
  });

});

describe("IPv6 configurations accepted", () => {
  it("IPv4 egress on by default, the reference's egress data directory and log", () => {
    const result = loadConfig(V6);
    assert.ok(result.ok);
    assert.deepEqual(result.config.cniChain, {
      v4Egress: true,
      v6Egress: false,
      bandwidthPlugin: false,
      disablePodV6: false,
      egressLogFile: { kind: "file", path: "/var/log/aws-routed-eni/egress-v4-plugin.log" },
      egressIpamDir: "/run/cni/v6pd/egress-v4-ipam",
    });
    assert.deepEqual(result.warnings, []);
  });

  it("the pool's variables, which have no effect, are named in one warning", () => {
    const result = loadConfig({ ...V6, WARM_PREFIX_TARGET: "2", WARM_IP_TARGET: "5", ENABLE_V6_EGRESS: "false" });
    assert.ok(result.ok);
    assert.deepEqual(result.warnings, [
      "WARM_IP_TARGET, WARM_PREFIX_TARGET have no effect with ENABLE_IPv6: one /80 on the primary ENI serves every pod, there is no warm pool",
      "ENABLE_V6_EGRESS has no effect on IPv6 nodes (IPv6 is the pods' own family)",
    ]);
  });

  it("the chain's variables and the egress paths", () => {
    const result = loadConfig({ ...V6, ENABLE_V4_EGRESS: "false", ENABLE_BANDWIDTH_PLUGIN: "true", DISABLE_POD_V6: "true", VPC_CNI_EGRESS_IPAM_DIR: "/run/x/egress", AWS_VPC_K8S_EGRESS_V4_PLUGIN_LOG_FILE: "stderr" });
    assert.ok(result.ok);
    assert.deepEqual(result.config.cniChain, { v4Egress: false, v6Egress: false, bandwidthPlugin: true, disablePodV6: true, egressLogFile: { kind: "stderr" }, egressIpamDir: "/run/x/egress" });
    assert.match(refusal({ ...V6, AWS_VPC_K8S_EGRESS_V4_PLUGIN_LOG_FILE: "stdout" }), /AWS_VPC_K8S_EGRESS_V4_PLUGIN_LOG_FILE="stdout": allowed: "stderr" or an absolute file path/);
  });

  it("IPv4 nodes: ENABLE_V6_EGRESS and the reference's IPv6-egress paths", () => {
    const on = loadConfig({ ENABLE_V6_EGRESS: "true" });
    assert.ok(on.ok);
    assert.equal(on.config.cniChain.v6Egress, true);
    assert.deepEqual(on.warnings, []);
    const result = loadConfig({});
    assert.ok(result.ok);
    assert.equal(result.config.cniChain.egressIpamDir, "/run/cni/v4pd/egress-v6-ipam");
    assert.deepEqual(result.config.cniChain.egressLogFile, { kind: "file", path: "/var/log/aws-routed-eni/egress-v6-plugin.log" });
  });
});
