// egress-cni's conflist entry: the reference's keys and defaults, pass-through when disabled, and
// every malformed value refused with the key named (code 7) before anything changes.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CniError, parseNetConf } from "../cni/index.ts";
import { egressConf } from "./conf.ts";

const entry = {
  cniVersion: "1.0.0",
  name: "aws-cni",
  type: "egress-cni",
  mtu: "1500",
  enabled: "true",
  randomizeSNAT: "hashrandom",
  nodeIP: "10.0.0.12",
  ipam: { type: "host-local", ranges: [[{ subnet: "169.254.172.0/22" }]], routes: [{ dst: "0.0.0.0/0" }], dataDir: "/run/cni/v6pd/egress-v4-ipam" },
  pluginLogFile: "/var/log/aws-routed-eni/egress-v4-plugin.log",
  pluginLogLevel: "Debug",
};
const conf = (over: Record<string, unknown>) => egressConf(parseNetConf({ ...entry, ...over }));
const refused = (over: Record<string, unknown>) => {
  try {
    conf(over);
  } catch (err) {
    assert.ok(err instanceof CniError);
    assert.equal(err.code, 7);
    return err.message;
  }
  return assert.fail(`accepted ${JSON.stringify(over)}`);
};

describe("egress-cni conf", () => {
  it("reads the reference's entry", () => {
    assert.deepEqual(conf({}), {
      enabled: true,
      nodeIp: "10.0.0.12",
      family: "4",
      randomizeSnat: "hashrandom",
      mtu: 1500,
      subnet: "169.254.172.0/22",
      dataDir: "/run/cni/v6pd/egress-v4-ipam",
      logFile: "/var/log/aws-routed-eni/egress-v4-plugin.log",
      logLevel: "debug",
    });
    assert.equal(conf({ nodeIP: "2600:1f10::c", ipam: { ...entry.ipam, ranges: [[{ subnet: "fd00::ac:00/118" }]] } }).family, "6");
    assert.equal(conf({ mtu: "70000", randomizeSNAT: "odd" }).mtu, 9001, "an MTU out of range is 9001, as the plugin's");
  });

  it(`disabled (anything but "true"): nothing else is read`, () => {
    assert.equal(conf({ enabled: "false", nodeIP: "", ipam: undefined }).enabled, false);
    assert.equal(conf({ enabled: "TRUE", nodeIP: "x" }).enabled, false);
  });

  it("refuses what it cannot use, naming the key", () => {
    assert.match(refused({ nodeIP: "" }), /egress-cni: nodeIP is required/);
    assert.match(refused({ nodeIP: "10.0.0" }), /nodeIP "10\.0\.0" is not an IP address/);
    assert.match(refused({ nodeIP: 5 }), /nodeIP must be a string, got number/);
    assert.match(refused({ ipam: undefined }), /ipam is required/);
    assert.match(refused({ ipam: { ...entry.ipam, ranges: [] } }), /ipam\.ranges\[0\]\[0\]\.subnet must be a CIDR/);
    assert.match(refused({ ipam: { ...entry.ipam, dataDir: "relative" } }), /ipam\.dataDir must be an absolute path/);
    assert.match(refused({ nodeIP: "2600:1f10::c" }), /different families/);
  });
});
