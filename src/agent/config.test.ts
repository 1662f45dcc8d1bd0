import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { formatConfigErrors, loadConfig } from "./config.ts";
import type { AgentConfig, ConfigError } from "./config.ts";
import { CONFIG_VARIABLES, formatConfigHelp } from "./config-variables.ts";

type Env = Record<string, string | undefined>;

function accept(env: Env): { config: AgentConfig; warnings: readonly string[] } {
  const result = loadConfig(env);
  if (!result.ok) assert.fail(`expected the configuration to be accepted:\n${formatConfigErrors(result.errors)}`);
  return result;
}

function refuse(env: Env): readonly ConfigError[] {
  const result = loadConfig(env);
  assert.equal(result.ok, false, `expected ${JSON.stringify(env)} to be refused`);
  return result.ok ? [] : result.errors;
}

const refusedNames = (env: Env) => refuse(env).map((e) => e.variable);

describe("loadConfig defaults", () => {
  it("gives aws-node's defaults (its manifest's for ENABLE_IPv4 and WARM_PREFIX_TARGET) for an empty environment", () => {
    const { config, warnings } = accept({});
    assert.deepEqual(warnings, []);
    assert.equal(config.ipFamily, "ipv4");
    assert.deepEqual(config.pool, {
      prefixDelegation: false,
      warmEniTarget: 1,
      warmIpTarget: 0,
      minimumIpTarget: 0,
      warmPrefixTarget: 1,
      maxEni: null,
      ipCooldownMs: 30_000,
      manageEnisNonSchedulable: false,
      minEniAgeMs: 60_000,
      shrinkIntervalMs: 30_000,
      allocationWaitMs: 20_000,
      growthPauseMs: 120_000,
      reconcileIntervalMs: 60_000,
    });
    assert.deepEqual(config.hostNetwork, {
      externalSnat: false,
      excludeSnatCidrs: [],
      randomizeSnat: "prng",
      connmark: 0x80,
      nodePortSupport: true,
      externalServiceCidrs: [],
      eniMtu: 9001,
      podMtu: 9001,
      vethPrefix: "eni",
    });
    assert.deepEqual(config.eni, {
      disableNetworkResourceProvisioning: false,
      imdsOnlyMode: false,
      disableLeakedEniCleanup: false,
      clusterName: "",
      additionalEniTags: {},
      manageUntaggedEni: true,
      subnetDiscovery: true,
      customNetworking: false,
      customNetworkingByTags: false,
      eniConfigLabelKey: "k8s.amazonaws.com/eniConfig",
      eniConfigAnnotationKey: "k8s.amazonaws.com/eniConfig",
      podEni: false,
      podSecurityGroupEnforcingMode: "strict",
    });
    assert.deepEqual(config.paths, {
      stateDir: "/var/run/aws-node",
      backingStore: "/var/run/aws-node/ipam.json",
      socketPath: "/var/run/aws-node/ipamd.sock",
      socketMode: 0o600,
      cniBinDir: "/opt/cni/bin",
      cniConfDir: "/etc/cni/net.d",
    });
    assert.deepEqual(config.observability, {
      introspectionBind: { kind: "tcp", host: "127.0.0.1", port: 61679 },
      metricsBind: { kind: "tcp", host: "", port: 61678 },
      logLevel: "debug",
      logFile: { kind: "file", path: "/var/log/aws-routed-eni/ipamd.log" },
      pluginLogLevel: "debug",
      pluginLogFile: { kind: "file", path: "/var/log/aws-routed-eni/plugin.log" },
    });
  });

  it("treats empty and blank values as unset", () => {
    const { config } = accept({ WARM_ENI_TARGET: "", AWS_VPC_ENI_MTU: "  ", ENABLE_IPv4: undefined });
    assert.equal(config.pool.warmEniTarget, 1);
    assert.equal(config.hostNetwork.eniMtu, 9001);
    assert.equal(config.enableIpv4, true);
  });

  it("ignores surrounding blanks of a value", () => {
    assert.equal(accept({ WARM_IP_TARGET: " 5 " }).config.pool.warmIpTarget, 5);
  });

  it("returns a deeply frozen configuration", () => {
    const { config } = accept({ ADDITIONAL_ENI_TAGS: '{"a":"b"}', AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS: "10.0.0.0/8" });
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.pool));
    assert.ok(Object.isFrozen(config.eni.additionalEniTags));
    assert.ok(Object.isFrozen(config.hostNetwork.excludeSnatCidrs));
    assert.ok(Object.isFrozen(config.observability.introspectionBind));
  });

  it("reads only the environment it is given, never the process's", () => {
    process.env["WARM_IP_TARGET"] = "7";
    try {
      assert.equal(accept({}).config.pool.warmIpTarget, 0);
    } finally {
      delete process.env["WARM_IP_TARGET"];
    }
  });
});

describe("booleans", () => {
  for (const text of ["1", "t", "T", "TRUE", "true", "True"]) {
    it(`reads ${JSON.stringify(text)} as true, as Go's strconv.ParseBool does`, () => {
      assert.equal(accept({ AWS_VPC_K8S_CNI_EXTERNALSNAT: text }).config.hostNetwork.externalSnat, true);
    });
  }
  for (const text of ["0", "f", "F", "FALSE", "false", "False"]) {
    it(`reads ${JSON.stringify(text)} as false`, () => {
      assert.equal(accept({ AWS_VPC_CNI_NODE_PORT_SUPPORT: text }).config.hostNetwork.nodePortSupport, false);
    });
  }
  for (const text of ["yes", "no", "on", "tRUE", "2", "enabled"]) {
    it(`refuses ${JSON.stringify(text)} (aws-node would silently use the default)`, () => {
      const [error] = refuse({ ENABLE_PREFIX_DELEGATION: text });
      assert.equal(error?.variable, "ENABLE_PREFIX_DELEGATION");
      assert.equal(error?.value, text);
      assert.match(error?.allowed ?? "", /true or false/);
    });
  }
  it("reads every boolean variable", () => {
    const { config } = accept({
      AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: "true",
      ENABLE_POD_ENI: "true",
      DISABLE_NETWORK_RESOURCE_PROVISIONING: "true",
      MANAGE_UNTAGGED_ENI: "false",
      ENABLE_SUBNET_DISCOVERY: "false",
      AWS_MANAGE_ENIS_NON_SCHEDULABLE: "true",
      DISABLE_INTROSPECTION: "true",
      DISABLE_METRICS: "true",
    });
    assert.equal(config.eni.customNetworking, true);
    assert.equal(config.eni.podEni, true);
    assert.equal(config.eni.disableNetworkResourceProvisioning, true);
    assert.equal(config.eni.manageUntaggedEni, false);
    assert.equal(config.eni.subnetDiscovery, false);
    assert.equal(config.pool.manageEnisNonSchedulable, true);
    assert.equal(config.observability.introspectionBind, null);
    assert.equal(config.observability.metricsBind, null);
  });
});

describe("warm-pool numbers", () => {
  it("reads the targets as decimal numbers (leading zeros and + as Go's Atoi)", () => {
    const { config } = accept({ WARM_ENI_TARGET: "0", WARM_IP_TARGET: "010", MINIMUM_IP_TARGET: "+12" });
    assert.equal(config.pool.warmEniTarget, 0);
    assert.equal(config.pool.warmIpTarget, 10);
    assert.equal(config.pool.minimumIpTarget, 12);
  });

  for (const name of ["WARM_ENI_TARGET", "WARM_IP_TARGET", "MINIMUM_IP_TARGET", "WARM_PREFIX_TARGET", "IP_COOLDOWN_PERIOD"]) {
    for (const text of ["-1", "1.5", "abc", "0x10", "1e3", "99999999999999999999"]) {
      it(`refuses ${name}=${text}`, () => {
        const errors = refuse({ [name]: text, ENABLE_PREFIX_DELEGATION: "false" });
        assert.deepEqual(errors.map((e) => e.variable), [name]);
        assert.match(errors[0]?.allowed ?? "", /whole number ≥ 0/);
      });
    }
  }

  it("gives IP_COOLDOWN_PERIOD in milliseconds", () => {
    assert.equal(accept({ IP_COOLDOWN_PERIOD: "0" }).config.pool.ipCooldownMs, 0);
    assert.equal(accept({ IP_COOLDOWN_PERIOD: "45" }).config.pool.ipCooldownMs, 45_000);
  });

  it("takes MAX_ENI ≥ 1, or -1 for the instance's limit", () => {
    assert.equal(accept({ MAX_ENI: "3" }).config.pool.maxEni, 3);
    assert.equal(accept({ MAX_ENI: "-1" }).config.pool.maxEni, null);
    for (const text of ["0", "-2", "two"]) assert.deepEqual(refusedNames({ MAX_ENI: text }), ["MAX_ENI"], text);
  });
});

describe("prefix delegation targets", () => {
  it("accepts prefix delegation with the default WARM_PREFIX_TARGET of 1", () => {
    const { config } = accept({ ENABLE_PREFIX_DELEGATION: "true" });
    assert.equal(config.pool.prefixDelegation, true);
    assert.equal(config.pool.warmPrefixTarget, 1);
  });

  it("refuses prefix delegation with every target 0, naming the targets", () => {
    const errors = refuse({ ENABLE_PREFIX_DELEGATION: "true", WARM_PREFIX_TARGET: "0", WARM_IP_TARGET: "0" });
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.variable, "ENABLE_PREFIX_DELEGATION");
    assert.deepEqual(errors[0]?.with?.map((w) => w.variable), ["WARM_PREFIX_TARGET", "WARM_IP_TARGET", "MINIMUM_IP_TARGET"]);
    assert.match(formatConfigErrors(errors), /WARM_PREFIX_TARGET="0"/);
  });

  it('compares numbers, not strings: "00" is zero (aws-node lets it through)', () => {
    assert.deepEqual(refusedNames({ ENABLE_PREFIX_DELEGATION: "true", WARM_PREFIX_TARGET: "00" }), ["ENABLE_PREFIX_DELEGATION"]);
  });

  it("accepts any one target above 0, including two-digit ones", () => {
    accept({ ENABLE_PREFIX_DELEGATION: "true", WARM_PREFIX_TARGET: "0", WARM_IP_TARGET: "10" });
    accept({ ENABLE_PREFIX_DELEGATION: "true", WARM_PREFIX_TARGET: "0", MINIMUM_IP_TARGET: "32" });
    accept({ ENABLE_PREFIX_DELEGATION: "true", WARM_PREFIX_TARGET: "12" });
  });

  it("accepts all targets 0 without prefix delegation (the pool then follows WARM_ENI_TARGET)", () => {
    accept({ WARM_PREFIX_TARGET: "0", WARM_IP_TARGET: "0", MINIMUM_IP_TARGET: "0" });
  });

  it("does not add the cross-variable error when a target itself was refused", () => {
    assert.deepEqual(refusedNames({ ENABLE_PREFIX_DELEGATION: "true", WARM_PREFIX_TARGET: "0", WARM_IP_TARGET: "-1" }), ["WARM_IP_TARGET"]);
  });

  it("warns about targets that have no effect", () => {
    assert.deepEqual(accept({ WARM_ENI_TARGET: "2", WARM_IP_TARGET: "5" }).warnings, ["WARM_ENI_TARGET has no effect while WARM_IP_TARGET or MINIMUM_IP_TARGET is set"]);
    assert.deepEqual(accept({ WARM_ENI_TARGET: "2", ENABLE_PREFIX_DELEGATION: "true" }).warnings, ["WARM_ENI_TARGET has no effect with prefix delegation"]);
    assert.deepEqual(accept({ WARM_PREFIX_TARGET: "2" }).warnings, ["WARM_PREFIX_TARGET has no effect without ENABLE_PREFIX_DELEGATION"]);
    assert.deepEqual(accept({ ENABLE_PREFIX_DELEGATION: "true", WARM_PREFIX_TARGET: "2", MINIMUM_IP_TARGET: "20" }).warnings, [
      "WARM_PREFIX_TARGET has no effect while WARM_IP_TARGET or MINIMUM_IP_TARGET is set",
    ]);
  });
});

describe("address family", () => {
  it("refuses IPv4 and IPv6 together", () => {
    const errors = refuse({ ENABLE_IPv6: "true", ENABLE_PREFIX_DELEGATION: "true" });
    assert.deepEqual(errors.map((e) => e.variable), ["ENABLE_IPv6"]);
    assert.match(errors[0]?.allowed ?? "", /dual-stack/);
  });

  it("refuses neither family", () => {
    const errors = refuse({ ENABLE_IPv4: "false" });
    assert.deepEqual(errors.map((e) => e.variable), ["ENABLE_IPv6"]);
    assert.match(errors[0]?.allowed ?? "", /one address family/);
  });

  it("accepts IPv6 with prefix delegation, and then turns leaked-ENI clean-up off as aws-node does", () => {
    const { config } = accept({ ENABLE_IPv4: "false", ENABLE_IPv6: "true", ENABLE_PREFIX_DELEGATION: "true" });
    assert.equal(config.ipFamily, "ipv6");
    assert.equal(config.eni.disableLeakedEniCleanup, true);
  });

  it("refuses IPv6 without prefix delegation or with custom networking", () => {
    const v6 = { ENABLE_IPv4: "false", ENABLE_IPv6: "true" };
    assert.deepEqual(refusedNames(v6), ["ENABLE_PREFIX_DELEGATION"]);
    assert.deepEqual(refusedNames({ ...v6, ENABLE_PREFIX_DELEGATION: "true", AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: "true" }), ["AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"]);
  });

  it("does not require prefix targets in IPv6, which has no pool targets", () => {
    accept({ ENABLE_IPv4: "false", ENABLE_IPv6: "true", ENABLE_PREFIX_DELEGATION: "true", WARM_PREFIX_TARGET: "0" });
  });
});

describe("MTU", () => {
  it("takes 576..9001 for IPv4", () => {
    assert.equal(accept({ AWS_VPC_ENI_MTU: "576" }).config.hostNetwork.eniMtu, 576);
    assert.equal(accept({ AWS_VPC_ENI_MTU: "9001" }).config.hostNetwork.eniMtu, 9001);
    assert.deepEqual(refusedNames({ AWS_VPC_ENI_MTU: "575" }), ["AWS_VPC_ENI_MTU"]);
    assert.deepEqual(refusedNames({ AWS_VPC_ENI_MTU: "9002" }), ["AWS_VPC_ENI_MTU"]);
    assert.deepEqual(refusedNames({ POD_MTU: "100" }), ["POD_MTU"]);
  });

  it("takes 1280..9001 for IPv6", () => {
    const v6 = { ENABLE_IPv4: "false", ENABLE_IPv6: "true", ENABLE_PREFIX_DELEGATION: "true" };
    const [error] = refuse({ ...v6, AWS_VPC_ENI_MTU: "1279" });
    assert.match(error?.allowed ?? "", /1280\.\.9001/);
    assert.equal(accept({ ...v6, AWS_VPC_ENI_MTU: "1280" }).config.hostNetwork.eniMtu, 1280);
  });

  it("defaults POD_MTU to AWS_VPC_ENI_MTU", () => {
    const { config } = accept({ AWS_VPC_ENI_MTU: "1500" });
    assert.equal(config.hostNetwork.podMtu, 1500);
    assert.equal(accept({ AWS_VPC_ENI_MTU: "1500", POD_MTU: "1400" }).config.hostNetwork.podMtu, 1400);
  });

  it("warns when pods get a larger MTU than the ENIs", () => {
    assert.match(accept({ AWS_VPC_ENI_MTU: "1500", POD_MTU: "9001" }).warnings.join("\n"), /POD_MTU 9001 is above AWS_VPC_ENI_MTU 1500/);
  });
});

describe("host networking values", () => {
  it("takes veth prefixes of 1..4 characters other than eth, lo and vlan", () => {
    assert.equal(accept({ AWS_VPC_K8S_CNI_VETHPREFIX: "veth" }).config.hostNetwork.vethPrefix, "veth");
    assert.equal(accept({ AWS_VPC_K8S_CNI_VETHPREFIX: "p" }).config.hostNetwork.vethPrefix, "p");
    for (const text of ["abcde", "eth", "lo", "vlan", "a/b", "a b", "a+", "é"]) {
      assert.deepEqual(refusedNames({ AWS_VPC_K8S_CNI_VETHPREFIX: text }), ["AWS_VPC_K8S_CNI_VETHPREFIX"], text);
    }
  });

  it("reads the connmark in Go's base-0 integer syntax", () => {
    const mark = (text: string) => accept({ AWS_VPC_K8S_CNI_CONNMARK: text }).config.hostNetwork.connmark;
    assert.equal(mark("0x80"), 128);
    assert.equal(mark("0X80"), 128);
    assert.equal(mark("128"), 128);
    assert.equal(mark("0200"), 128);
    assert.equal(mark("0o200"), 128);
    assert.equal(mark("0b10000000"), 128);
    assert.equal(mark("0xffffffff"), 2 ** 32 - 1);
    for (const text of ["0", "-1", "0x100000000", "0x", "08", "mark", "1.0"]) {
      assert.deepEqual(refusedNames({ AWS_VPC_K8S_CNI_CONNMARK: text }), ["AWS_VPC_K8S_CNI_CONNMARK"], text);
    }
  });

  it("takes the SNAT randomisation modes in any case", () => {
    assert.equal(accept({ AWS_VPC_K8S_CNI_RANDOMIZESNAT: "hashrandom" }).config.hostNetwork.randomizeSnat, "hashrandom");
    assert.equal(accept({ AWS_VPC_K8S_CNI_RANDOMIZESNAT: "NONE" }).config.hostNetwork.randomizeSnat, "none");
    const [error] = refuse({ AWS_VPC_K8S_CNI_RANDOMIZESNAT: "random" });
    assert.equal(error?.allowed, "one of prng, hashrandom, none");
  });

  it("reads CIDR lists, clearing host bits (with a warning), dropping duplicates and empty items", () => {
    const { config, warnings } = accept({
      AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS: "10.1.0.0/16, 192.168.7.9/24,,10.1.0.0/16,",
      AWS_EXTERNAL_SERVICE_CIDRS: "0.0.0.0/0",
    });
    assert.deepEqual(config.hostNetwork.excludeSnatCidrs, ["10.1.0.0/16", "192.168.7.0/24"]);
    assert.deepEqual(config.hostNetwork.externalServiceCidrs, ["0.0.0.0/0"]);
    assert.deepEqual(warnings, ["AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS: host bits cleared, using 192.168.7.0/24"]);
  });

  it("refuses malformed and IPv6 CIDRs, listing each bad item", () => {
    const [error] = refuse({ AWS_EXTERNAL_SERVICE_CIDRS: "10.0.0.0/8,fd00::/8,10.0.0.0/33,010.0.0.0/8,10.0.0.0" });
    assert.equal(error?.variable, "AWS_EXTERNAL_SERVICE_CIDRS");
    for (const bad of ["fd00::/8", "10.0.0.0/33", "010.0.0.0/8", '"10.0.0.0"']) assert.ok(error?.allowed.includes(bad), bad);
    assert.ok(!error?.allowed.includes('"10.0.0.0/8"'));
  });

  it("warns that exclusions do nothing under external SNAT", () => {
    assert.deepEqual(accept({ AWS_VPC_K8S_CNI_EXTERNALSNAT: "true", AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS: "10.0.0.0/8" }).warnings, [
      "AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS has no effect with AWS_VPC_K8S_CNI_EXTERNALSNAT=true",
    ]);
  });
});

describe("ENI management", () => {
  it("reads ADDITIONAL_ENI_TAGS as a record", () => {
    const { config } = accept({ ADDITIONAL_ENI_TAGS: '{"team":"net","cost-center":""}' });
    assert.deepEqual(config.eni.additionalEniTags, { team: "net", "cost-center": "" });
  });

  const tagCases: [string, string, RegExp][] = [
    ["reserved by the agent", '{"node.k8s.amazonaws.com/instance_id":"i-1"}', /contains "k8s\.amazonaws\.com"/],
    ["reserved by the agent (cluster tag)", '{"cluster.k8s.amazonaws.com/name":"x"}', /reserved for the tags the agent sets/],
    ["reserved by AWS", '{"aws:cloudformation:stack":"x"}', /prefix "aws:"/],
    ["not a string", '{"n":1}', /value of "n" is not a string/],
    ["an array", '["a"]', /not a JSON object/],
    ["not JSON", "team=net", /not valid JSON/],
    ["an empty key", '{"":"x"}', /not 1\.\.128 characters/],
    ["a long value", JSON.stringify({ k: "v".repeat(257) }), /longer than 256/],
    ["too many", JSON.stringify(Object.fromEntries(Array.from({ length: 47 }, (_, i) => [`k${i}`, "v"]))), /47 tags, more than the 46/],
  ];
  for (const [what, text, pattern] of tagCases) {
    it(`refuses tags ${what}`, () => {
      const [error] = refuse({ ADDITIONAL_ENI_TAGS: text });
      assert.equal(error?.variable, "ADDITIONAL_ENI_TAGS");
      assert.match(error?.allowed ?? "", pattern);
    });
  }

  it("checks CLUSTER_NAME", () => {
    assert.equal(accept({ CLUSTER_NAME: "prod-eu_1" }).config.eni.clusterName, "prod-eu_1");
    for (const text of ["-x", "a b", "a/b", "x".repeat(101)]) assert.deepEqual(refusedNames({ CLUSTER_NAME: text }), ["CLUSTER_NAME"], text);
  });

  it("checks the ENIConfig label and annotation keys", () => {
    const { config } = accept({ ENI_CONFIG_LABEL_DEF: "topology.kubernetes.io/zone", ENI_CONFIG_ANNOTATION_DEF: "eniConfig" });
    assert.equal(config.eni.eniConfigLabelKey, "topology.kubernetes.io/zone");
    assert.equal(config.eni.eniConfigAnnotationKey, "eniConfig");
    assert.deepEqual(refusedNames({ ENI_CONFIG_LABEL_DEF: "Bad_Prefix/zone", ENI_CONFIG_ANNOTATION_DEF: "a/b/" }), ["ENI_CONFIG_LABEL_DEF", "ENI_CONFIG_ANNOTATION_DEF"]);
  });

  it("checks the security-group enforcing mode", () => {
    assert.equal(accept({ ENABLE_POD_ENI: "true", POD_SECURITY_GROUP_ENFORCING_MODE: "standard" }).config.eni.podSecurityGroupEnforcingMode, "standard");
    assert.deepEqual(refusedNames({ ENABLE_POD_ENI: "true", POD_SECURITY_GROUP_ENFORCING_MODE: "loose" }), ["POD_SECURITY_GROUP_ENFORCING_MODE"]);
  });

  it("derives the effective provisioning and clean-up switches as aws-node does", () => {
    const imdsOnly = accept({ ENABLE_IMDS_ONLY_MODE: "true" });
    assert.equal(imdsOnly.config.eni.disableNetworkResourceProvisioning, true);
    assert.equal(imdsOnly.config.eni.disableLeakedEniCleanup, true);
    assert.equal(accept({ DISABLE_NETWORK_RESOURCE_PROVISIONING: "true" }).config.eni.disableLeakedEniCleanup, true);
    const cleanupOff = accept({ DISABLE_LEAKED_ENI_CLEANUP: "true" }).config.eni;
    assert.equal(cleanupOff.disableLeakedEniCleanup, true);
    assert.equal(cleanupOff.disableNetworkResourceProvisioning, false);
  });
});

describe("paths and endpoints", () => {
  it("moves the checkpoint and the socket with VPC_CNI_STATE_DIR, so agents can share a machine", () => {
    const { config } = accept({ VPC_CNI_STATE_DIR: "/run/vpcsim/r1/node-a/" });
    assert.equal(config.paths.stateDir, "/run/vpcsim/r1/node-a");
    assert.equal(config.paths.backingStore, "/run/vpcsim/r1/node-a/ipam.json");
    assert.equal(config.paths.socketPath, "/run/vpcsim/r1/node-a/ipamd.sock");
  });

  it("lets each path be set on its own", () => {
    const { config } = accept({
      VPC_CNI_STATE_DIR: "/s",
      AWS_VPC_K8S_CNI_BACKING_STORE: "/c/ipam.json",
      VPC_CNI_SOCKET: "/k/agent.sock",
      VPC_CNI_SOCKET_MODE: "0660",
      VPC_CNI_BIN_DIR: "/b",
      VPC_CNI_CONF_DIR: "/n",
    });
    assert.deepEqual(config.paths, { stateDir: "/s", backingStore: "/c/ipam.json", socketPath: "/k/agent.sock", socketMode: 0o660, cniBinDir: "/b", cniConfDir: "/n" });
  });

  it("reads aws-node's HOST_CNI_* names, with ours taking precedence", () => {
    assert.equal(accept({ HOST_CNI_BIN_PATH: "/host/opt/cni/bin" }).config.paths.cniBinDir, "/host/opt/cni/bin");
    assert.equal(accept({ HOST_CNI_CONFDIR_PATH: "/host/etc/cni/net.d" }).config.paths.cniConfDir, "/host/etc/cni/net.d");
    const both = accept({ HOST_CNI_BIN_PATH: "/host/opt/cni/bin", VPC_CNI_BIN_DIR: "/opt/cni/bin" });
    assert.equal(both.config.paths.cniBinDir, "/opt/cni/bin");
    assert.deepEqual(both.warnings, ["HOST_CNI_BIN_PATH ignored: VPC_CNI_BIN_DIR=/opt/cni/bin is set"]);
  });

  it("refuses relative paths and bad modes", () => {
    assert.deepEqual(refusedNames({ VPC_CNI_STATE_DIR: "run/aws-node", VPC_CNI_BIN_DIR: "./bin", VPC_CNI_SOCKET_MODE: "rw" }), [
      "VPC_CNI_STATE_DIR",
      "VPC_CNI_BIN_DIR",
      "VPC_CNI_SOCKET_MODE",
    ]);
    assert.deepEqual(refusedNames({ VPC_CNI_SOCKET_MODE: "0800" }), ["VPC_CNI_SOCKET_MODE"]);
  });

  it("refuses a socket on the checkpoint's path", () => {
    assert.deepEqual(refusedNames({ VPC_CNI_SOCKET: "/var/run/aws-node/ipam.json" }), ["VPC_CNI_SOCKET"]);
  });

  it("reads listen addresses: host:port, [v6]:port, :port and unix:/path", () => {
    const bind = (text: string) => accept({ INTROSPECTION_BIND_ADDRESS: text }).config.observability.introspectionBind;
    assert.deepEqual(bind("127.0.0.2:7000"), { kind: "tcp", host: "127.0.0.2", port: 7000 });
    assert.deepEqual(bind("[::1]:7000"), { kind: "tcp", host: "::1", port: 7000 });
    assert.deepEqual(bind("localhost:7000"), { kind: "tcp", host: "localhost", port: 7000 });
    assert.deepEqual(bind("unix:/run/x/introspect.sock"), { kind: "unix", path: "/run/x/introspect.sock" });
    const metrics = accept({ VPC_CNI_METRICS_BIND_ADDRESS: "127.0.0.1:9100" }).config.observability.metricsBind;
    assert.deepEqual(metrics, { kind: "tcp", host: "127.0.0.1", port: 9100 });
    for (const text of ["61679", "127.0.0.1:0", "127.0.0.1:70000", "unix:relative.sock", "::1:7000", "a:b"]) {
      assert.deepEqual(refusedNames({ INTROSPECTION_BIND_ADDRESS: text }), ["INTROSPECTION_BIND_ADDRESS"], text);
    }
  });

  it("refuses metrics and introspection on the same port, unless one is disabled", () => {
    assert.deepEqual(refusedNames({ VPC_CNI_METRICS_BIND_ADDRESS: ":61679" }), ["VPC_CNI_METRICS_BIND_ADDRESS"]);
    assert.deepEqual(refusedNames({ VPC_CNI_METRICS_BIND_ADDRESS: "127.0.0.1:61679" }), ["VPC_CNI_METRICS_BIND_ADDRESS"]);
    accept({ VPC_CNI_METRICS_BIND_ADDRESS: "127.0.0.2:61679" });
    accept({ VPC_CNI_METRICS_BIND_ADDRESS: ":61679", DISABLE_INTROSPECTION: "true" });
  });

  it("reads log levels in any case and log destinations", () => {
    const { config } = accept({
      AWS_VPC_K8S_CNI_LOGLEVEL: "INFO",
      AWS_VPC_K8S_PLUGIN_LOG_LEVEL: "warn",
      AWS_VPC_K8S_CNI_LOG_FILE: "stdout",
      AWS_VPC_K8S_PLUGIN_LOG_FILE: "stderr",
    });
    assert.equal(config.observability.logLevel, "info");
    assert.equal(config.observability.pluginLogLevel, "warn");
    assert.deepEqual(config.observability.logFile, { kind: "stdout" });
    assert.deepEqual(config.observability.pluginLogFile, { kind: "stderr" });
    const moved = accept({ VPC_CNI_LOG_DIR: "/tmp/logs" }).config.observability;
    assert.deepEqual(moved.logFile, { kind: "file", path: "/tmp/logs/ipamd.log" });
    assert.deepEqual(moved.pluginLogFile, { kind: "file", path: "/tmp/logs/plugin.log" });
  });

  it("refuses stdout for the plugin log (it carries the CNI protocol), unknown levels and relative files", () => {
    const errors = refuse({ AWS_VPC_K8S_PLUGIN_LOG_FILE: "stdout", AWS_VPC_K8S_CNI_LOGLEVEL: "verbose", AWS_VPC_K8S_CNI_LOG_FILE: "ipamd.log" });
    assert.deepEqual(errors.map((e) => e.variable), ["AWS_VPC_K8S_CNI_LOGLEVEL", "AWS_VPC_K8S_CNI_LOG_FILE", "AWS_VPC_K8S_PLUGIN_LOG_FILE"]);
    assert.match(errors[2]?.allowed ?? "", /CNI protocol/);
  });
});

describe("reporting", () => {
  it("reports every refused variable together, each with its value and what is allowed", () => {
    const errors = refuse({
      WARM_IP_TARGET: "-3",
      AWS_VPC_ENI_MTU: "100000",
      ENABLE_IPv6: "maybe",
      AWS_VPC_K8S_CNI_VETHPREFIX: "vlan",
      ADDITIONAL_ENI_TAGS: "{",
      AWS_VPC_K8S_CNI_CONNMARK: "0",
    });
    assert.deepEqual(new Set(errors.map((e) => e.variable)), new Set(["WARM_IP_TARGET", "AWS_VPC_ENI_MTU", "ENABLE_IPv6", "AWS_VPC_K8S_CNI_VETHPREFIX", "ADDITIONAL_ENI_TAGS", "AWS_VPC_K8S_CNI_CONNMARK"]));
    const message = formatConfigErrors(errors);
    assert.match(message, /^invalid configuration, 6 variables refused:\n/);
    assert.match(message, /WARM_IP_TARGET="-3": allowed: a whole number ≥ 0/);
    assert.match(message, /AWS_VPC_ENI_MTU="100000": allowed: a whole number 576\.\.9001/);
    assert.match(message, /ENABLE_IPv6="maybe": allowed: true or false/);
    assert.equal(message.split("\n").length, 7);
  });

  it("says unset for a rule broken by a default", () => {
    assert.match(formatConfigErrors(refuse({ ENABLE_IPv4: "false" })), /ENABLE_IPv6=unset \(with ENABLE_IPv4="false"\): allowed: true when/);
  });

  it("warns about deprecated and unknown vpc-cni variables", () => {
    const { warnings } = accept({ ENABLE_NFTABLES: "true", VPC_CNI_SOKET: "/x", VPC_CNI_VERSION: "v1" });
    assert.deepEqual(warnings, ["ENABLE_NFTABLES is deprecated and has no effect", "VPC_CNI_SOKET is not a variable vpc-cni-agent knows; ignored"]);
  });
});

describe("the variable table", () => {
  it("lists each variable once, with a meaning", () => {
    const names = CONFIG_VARIABLES.map((v) => v.name);
    assert.equal(new Set(names).size, names.length);
    for (const variable of CONFIG_VARIABLES) assert.ok(variable.meaning.length > 10, variable.name);
  });

  it("includes every variable the brief and the reference's table require", () => {
    const required = [
      "WARM_ENI_TARGET", "WARM_IP_TARGET", "MINIMUM_IP_TARGET", "WARM_PREFIX_TARGET", "ENABLE_PREFIX_DELEGATION", "MAX_ENI", "IP_COOLDOWN_PERIOD",
      "AWS_VPC_K8S_CNI_EXTERNALSNAT", "AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS", "AWS_VPC_K8S_CNI_RANDOMIZESNAT", "AWS_VPC_K8S_CNI_CONNMARK",
      "AWS_VPC_CNI_NODE_PORT_SUPPORT", "AWS_EXTERNAL_SERVICE_CIDRS", "AWS_VPC_ENI_MTU", "POD_MTU", "AWS_VPC_K8S_CNI_VETHPREFIX",
      "DISABLE_NETWORK_RESOURCE_PROVISIONING", "DISABLE_LEAKED_ENI_CLEANUP", "CLUSTER_NAME", "ADDITIONAL_ENI_TAGS", "MANAGE_UNTAGGED_ENI",
      "AWS_VPC_K8S_CNI_BACKING_STORE", "INTROSPECTION_BIND_ADDRESS", "DISABLE_INTROSPECTION", "DISABLE_METRICS", "AWS_VPC_K8S_CNI_LOGLEVEL",
      "AWS_VPC_K8S_CNI_LOG_FILE", "AWS_VPC_K8S_PLUGIN_LOG_FILE", "AWS_VPC_K8S_PLUGIN_LOG_LEVEL", "ENABLE_IPv4", "ENABLE_IPv6",
      "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "ENI_CONFIG_LABEL_DEF", "ENI_CONFIG_ANNOTATION_DEF", "ENABLE_POD_ENI", "ENABLE_SUBNET_DISCOVERY",
      "AWS_MANAGE_ENIS_NON_SCHEDULABLE", "VPC_CNI_STATE_DIR", "VPC_CNI_BIN_DIR", "VPC_CNI_CONF_DIR", "VPC_CNI_SOCKET", "VPC_CNI_METRICS_BIND_ADDRESS",
    ];
    const names = new Set(CONFIG_VARIABLES.map((v) => v.name));
    for (const name of required) assert.ok(names.has(name), name);
  });

  it("lists exactly the variables the loader reads", () => {
    const source = readFileSync(new URL("./config.ts", import.meta.url), "utf8");
    const read = new Set([...source.matchAll(/"([A-Z][A-Z0-9_]*[a-z0-9]*[A-Z0-9_]*)"/g)].map((m) => m[1] as string).filter((n) => n.includes("_") && !n.endsWith("_")));
    const table = new Set(CONFIG_VARIABLES.map((v) => v.name));
    const notInTable = [...read].filter((n) => !table.has(n) && n !== "VPC_CNI_VERSION" && n !== "VPC_CNI_AGENT_FROM_SOURCE" && n !== "AWS_VPC_K8S_CNI_CONFIGURE_RPFILTER" && n !== "ENABLE_NFTABLES");
    assert.deepEqual(notInTable, []);
    assert.deepEqual([...table].filter((n) => !read.has(n)), []);
  });

  it("has every variable checked: a nonsense value is refused unless the variable is free text", () => {
    const freeText = new Set(["MY_NODE_NAME"]);
    for (const variable of CONFIG_VARIABLES) {
      if (freeText.has(variable.name)) continue;
      assert.ok(refusedNames({ [variable.name]: "%nonsense%" }).includes(variable.name), variable.name);
    }
  });

  it("prints every variable with its default in the help text", () => {
    const help = formatConfigHelp(100);
    for (const variable of CONFIG_VARIABLES) assert.match(help, new RegExp(`^${variable.name} `, "m"));
    assert.match(help, /\[127\.0\.0\.1:61679\]/);
    assert.match(help, /\[\/var\/run\/aws-node\] \*/);
    for (const line of help.split("\n")) assert.ok(line.length <= 100, line);
  });
});
