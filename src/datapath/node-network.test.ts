// Node-level host networking in a namespace of our own, compared with the reference's layout
// (reference §5.1, §5.6) written out here rule by rule.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { run } from "./exec.ts";
import { planTable } from "./iptables-plan.ts";
import { parseIptablesSave } from "./iptables.ts";
import { readNodeNetworkState, setupNodeNetwork, updateVpcCidrs, DatapathInputError, LinkNotFoundError, type NodeNetworkOptions } from "./index.ts";
import { buildNatLayout, natOwnership } from "./snat-layout.ts";
import { createTestNode, inNode, iptablesSaveStable, removeNamespaces, runPrefix, skipWithoutRoot, PRIMARY_IP, PRIMARY_MAC, type TestNode } from "./node-netns.test-support.ts";

const skip = skipWithoutRoot();
const prefix = runPrefix();

const BASE_RULES = ["0:\tfrom all lookup local", "32766:\tfrom all lookup main", "32767:\tfrom all lookup default"];
const FWMARK_RULE = "1024:\tfrom all fwmark 0x80/0x80 lookup main";
const withRules = (...extra: string[]) => [BASE_RULES[0], ...extra, ...BASE_RULES.slice(1)];

const MANGLE_HEAD = ["*mangle", ":PREROUTING ACCEPT", ":INPUT ACCEPT", ":FORWARD ACCEPT", ":OUTPUT ACCEPT", ":POSTROUTING ACCEPT"];
const NAT_HEAD = ["*nat", ":PREROUTING ACCEPT", ":INPUT ACCEPT", ":OUTPUT ACCEPT", ":POSTROUTING ACCEPT"];
const MANGLE_NODEPORT = [
  '-A PREROUTING -i eth0 -m comment --comment "AWS, primary ENI" -m addrtype --dst-type LOCAL --limit-iface-in -j CONNMARK --set-xmark 0x80/0x80',
  '-A PREROUTING -i eni+ -m comment --comment "AWS, primary ENI" -j CONNMARK --restore-mark --nfmask 0x80 --ctmask 0x80',
  '-A PREROUTING -i vlan+ -m comment --comment "AWS, primary ENI" -j CONNMARK --restore-mark --nfmask 0x80 --ctmask 0x80',
];
const NAT_PREROUTING = [
  '-A PREROUTING -i eni+ -m comment --comment "AWS, outbound connections" -j AWS-CONNMARK-CHAIN-0',
  '-A PREROUTING -m comment --comment "AWS, CONNMARK" -j CONNMARK --restore-mark --nfmask 0x80 --ctmask 0x80',
];
const POSTROUTING_JUMP = '-A POSTROUTING -m comment --comment "AWS SNAT CHAIN" -j AWS-SNAT-CHAIN-0';
const SNAT_RULE = `-A AWS-SNAT-CHAIN-0 ! -o vlan+ -m comment --comment "AWS, SNAT" -m addrtype ! --dst-type LOCAL -j SNAT --to-source ${PRIMARY_IP}`;
const snatReturn = (cidr: string) => `-A AWS-SNAT-CHAIN-0 -d ${cidr} -m comment --comment "AWS SNAT CHAIN" -j RETURN`;
const snatExclusion = (cidr: string) => `-A AWS-SNAT-CHAIN-0 -d ${cidr} -m comment --comment "AWS SNAT CHAIN EXCLUSION" -j RETURN`;
const connmarkReturn = (cidr: string) => `-A AWS-CONNMARK-CHAIN-0 -d ${cidr} -m comment --comment "AWS CONNMARK CHAIN" -j RETURN`;
const CONNMARK_SET = '-A AWS-CONNMARK-CHAIN-0 -m comment --comment "AWS, CONNMARK" -j CONNMARK --set-xmark 0x80/0x80';

/** The full iptables-save for on-node SNAT with node-port support (defaults). */
function onNodeSnatSave(vpc: string[], exclusions: string[] = [], snatFlag = " --random-fully"): string[] {
  return [
    ...MANGLE_HEAD,
    ...MANGLE_NODEPORT,
    "COMMIT",
    ...NAT_HEAD,
    ":AWS-CONNMARK-CHAIN-0 -",
    ":AWS-SNAT-CHAIN-0 -",
    ...NAT_PREROUTING,
    POSTROUTING_JUMP,
    ...[...vpc, ...exclusions].map(connmarkReturn),
    CONNMARK_SET,
    ...vpc.map(snatReturn),
    ...exclusions.map(snatExclusion),
    SNAT_RULE + snatFlag,
    "COMMIT",
  ];
}

async function snapshot(node: TestNode) {
  const state = await readNodeNetworkState({ netns: node.netns });
  return { rules: state.ruleLines, routes: state.routeLines, iptables: await iptablesSaveStable(node.netns) };
}

const options = (node: TestNode, extra: Partial<NodeNetworkOptions> = {}): NodeNetworkOptions => ({
  netns: node.netns,
  primaryMac: PRIMARY_MAC,
  primaryIp: PRIMARY_IP,
  vpcCidrs: ["10.0.0.0/16"],
  linkWait: { attempts: 2, intervalMs: 50 },
  ...extra,
});

describe("planTable (no root)", () => {
  it("plans nothing when the table already matches and rewrites only what differs", () => {
    const layout = buildNatLayout({
      primaryIf: "eth0", primaryIp: "10.0.1.10", vpcCidrs: ["10.0.0.0/16"], excludeSnatCidrs: [], externalSnat: false,
      randomizeSnat: "none", randomFullySupported: true, connmark: 0x80, nodePortSupport: true, vethPrefix: "eni",
    });
    const lines = ["*nat", ":PREROUTING ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]", ":AWS-CONNMARK-CHAIN-0 - [0:0]", ":AWS-SNAT-CHAIN-0 - [0:0]"];
    for (const [chain, specs] of layout.rulesInChains) for (const spec of specs) lines.push(`-A ${chain} ${spec}`);
    for (const [chain, specs] of layout.ownedChains) for (const spec of specs) lines.push(`-A ${chain} ${spec}`);
    const current = parseIptablesSave([...lines, "COMMIT"].join("\n")).get("nat");
    assert.ok(current);
    assert.equal(planTable("nat", current, layout, natOwnership), "");

    const stale = parseIptablesSave([...lines, ":AWS-SNAT-CHAIN-1 - [0:0]", '-A POSTROUTING -m comment --comment "AWS SNAT CHAIN" -j AWS-SNAT-CHAIN-0', "-A PREROUTING -j KUBE-SERVICES", "COMMIT"].join("\n")).get("nat");
    assert.ok(stale);
    const plan = planTable("nat", stale, layout, natOwnership);
    assert.match(plan, /^-D POSTROUTING -m comment --comment "AWS SNAT CHAIN" -j AWS-SNAT-CHAIN-0$/m);
    assert.match(plan, /^-F AWS-SNAT-CHAIN-1\n/m);
    assert.match(plan, /^-X AWS-SNAT-CHAIN-1\nCOMMIT$/m);
    assert.doesNotMatch(plan, /KUBE-SERVICES|AWS-CONNMARK-CHAIN-0 -/);
  });
});

describe("setupNodeNetwork", { skip }, () => {
  before(async () => {
    await run("iptables-restore", ["--version"]);
  });
  after(async () => {
    await removeNamespaces(prefix);
  });

  it("produces the reference layout with the defaults and changes nothing on a second run", async () => {
    const node = await createTestNode(prefix);
    const result = await setupNodeNetwork(options(node));
    assert.equal(result.primaryIf, "eth0");
    const first = await snapshot(node);
    assert.deepEqual(first.rules, withRules(FWMARK_RULE));
    assert.deepEqual(first.iptables, onNodeSnatSave(["10.0.0.0/16"]));
    assert.deepEqual(first.routes, [
      "default via 10.0.1.1 dev eth0",
      "10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.10",
      "local 10.0.1.10 dev eth0 table local proto kernel scope host src 10.0.1.10",
      "broadcast 10.0.1.255 dev eth0 table local proto kernel scope link src 10.0.1.10",
    ]);
    assert.equal((await inNode(node, "sysctl", ["-n", "net.ipv4.conf.eth0.rp_filter"])).trim(), "2");
    assert.equal((await inNode(node, "sysctl", ["-n", "net.ipv4.ip_forward"])).trim(), "1", "pods are routed through the node");
    assert.match(await inNode(node, "ip", ["link", "show", "eth0"]), /mtu 9001 /);

    await setupNodeNetwork(options(node));
    assert.deepEqual(await snapshot(node), first);
  });

  it("rebuilds the chains when the VPC CIDRs change, leaving no stale rule", async () => {
    const node = await createTestNode(prefix);
    await setupNodeNetwork(options(node, { excludeSnatCidrs: ["192.168.0.0/16"] }));
    await updateVpcCidrs(options(node, { vpcCidrs: ["10.0.0.0/16", "100.64.0.0/16"], excludeSnatCidrs: ["192.168.0.0/16"] }));
    assert.deepEqual(await iptablesSaveStable(node.netns), onNodeSnatSave(["10.0.0.0/16", "100.64.0.0/16"], ["192.168.0.0/16"]));
    await updateVpcCidrs(options(node, { vpcCidrs: ["100.64.0.0/16"], excludeSnatCidrs: ["192.168.0.0/16"] }));
    const save = await iptablesSaveStable(node.netns);
    assert.deepEqual(save, onNodeSnatSave(["100.64.0.0/16"], ["192.168.0.0/16"]));
    assert.ok(!save.some((line) => line.includes("10.0.0.0/16")));
  });

  it("writes exclusions as RETURNs, honours randomize mode, mark and external-service CIDRs", async () => {
    const node = await createTestNode(prefix);
    await setupNodeNetwork(options(node, {
      excludeSnatCidrs: ["192.168.0.0/16", "172.16.5.7/12"],
      randomizeSnat: "hashrandom",
      externalServiceCidrs: ["198.51.100.0/24", "203.0.113.0/24"],
    }));
    const state = await snapshot(node);
    assert.deepEqual(state.iptables, onNodeSnatSave(["10.0.0.0/16"], ["192.168.0.0/16", "172.16.0.0/12"], " --random"));
    assert.deepEqual(state.rules, withRules(FWMARK_RULE, "1535:\tfrom all to 198.51.100.0/24 lookup main", "1535:\tfrom all to 203.0.113.0/24 lookup main"));

    // A changed external-service set drops the stale rule; randomize none drops the flag.
    await setupNodeNetwork(options(node, { randomizeSnat: "none", externalServiceCidrs: ["203.0.113.0/24"] }));
    const next = await snapshot(node);
    assert.deepEqual(next.rules, withRules(FWMARK_RULE, "1535:\tfrom all to 203.0.113.0/24 lookup main"));
    assert.deepEqual(next.iptables, onNodeSnatSave(["10.0.0.0/16"], [], ""));

    // Another connmark value replaces every marked rule, none of the 0x80 ones stays.
    await setupNodeNetwork(options(node, { connmark: 0x4000 }));
    const marked = await snapshot(node);
    assert.ok(marked.rules.includes("1024:\tfrom all fwmark 0x4000/0x4000 lookup main"));
    assert.ok(!marked.rules.includes(FWMARK_RULE));
    assert.ok(!marked.iptables.some((line) => line.includes("0x80")));
    assert.equal(marked.iptables.filter((line) => line.includes("0x4000")).length, 5);
  });

  it("with external SNAT: no SNAT rule and no connmark chain; the fwmark rule only with node-port support", async () => {
    const node = await createTestNode(prefix);
    await setupNodeNetwork(options(node, { excludeSnatCidrs: ["192.168.0.0/16"] }));
    await setupNodeNetwork(options(node, { externalSnat: true, excludeSnatCidrs: ["192.168.0.0/16"] }));
    const state = await snapshot(node);
    assert.deepEqual(state.rules, withRules(FWMARK_RULE));
    assert.deepEqual(state.iptables, [...MANGLE_HEAD, ...MANGLE_NODEPORT, "COMMIT", ...NAT_HEAD, ":AWS-SNAT-CHAIN-0 -", "COMMIT"]);

    await setupNodeNetwork(options(node, { externalSnat: true, nodePortSupport: false }));
    const bare = await snapshot(node);
    assert.deepEqual(bare.rules, BASE_RULES);
    assert.deepEqual(bare.iptables, [...MANGLE_HEAD, "COMMIT", ...NAT_HEAD, ":AWS-SNAT-CHAIN-0 -", "COMMIT"]);

    // Back to on-node SNAT without node-port support: the restore rule on eni+ only (reference).
    await setupNodeNetwork(options(node, { nodePortSupport: false }));
    const save = await iptablesSaveStable(node.netns);
    assert.deepEqual(save.filter((line) => line.includes("AWS, primary ENI")), [MANGLE_NODEPORT[1]]);
    assert.ok(save.includes(SNAT_RULE + " --random-fully"));
  });

  it("removes what older aws-node layouts left: chained AWS-SNAT-CHAIN-1..N, the state-NEW jump, old rules; keeps foreign rules", async () => {
    const node = await createTestNode(prefix);
    const old = [
      "*nat",
      ":AWS-SNAT-CHAIN-0 - [0:0]",
      ":AWS-SNAT-CHAIN-1 - [0:0]",
      ":AWS-CONNMARK-CHAIN-0 - [0:0]",
      ":AWS-CONNMARK-CHAIN-1 - [0:0]",
      ":KUBE-SERVICES - [0:0]",
      "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
      '-A PREROUTING -i eni+ -m comment --comment "AWS, outbound connections" -m state --state NEW -j AWS-CONNMARK-CHAIN-0',
      '-A PREROUTING -m comment --comment "AWS, CONNMARK" -j CONNMARK --restore-mark --mask 0x80',
      '-A POSTROUTING -m comment --comment "AWS SNAT CHAIN" -j AWS-SNAT-CHAIN-0',
      '-A POSTROUTING -m comment --comment "AWS SNAT CHAIN" -j AWS-SNAT-CHAIN-0',
      '-A AWS-SNAT-CHAIN-0 ! -d 10.9.0.0/16 -m comment --comment "AWS SNAT CHAIN" -j AWS-SNAT-CHAIN-1',
      '-A AWS-SNAT-CHAIN-1 ! -o vlan+ -m comment --comment "AWS, SNAT" -m addrtype ! --dst-type LOCAL -j SNAT --to-source 10.0.1.10 --random-fully',
      '-A AWS-CONNMARK-CHAIN-0 ! -d 10.9.0.0/16 -m comment --comment "AWS CONNMARK CHAIN, VPC CIDR" -j AWS-CONNMARK-CHAIN-1',
      '-A AWS-CONNMARK-CHAIN-1 -m comment --comment "AWS, CONNMARK" -j CONNMARK --set-xmark 0x80/0x80',
      "COMMIT",
      "",
    ].join("\n");
    await run("ip", ["netns", "exec", node.netns, "iptables-restore", "--noflush"], { input: old });
    for (const args of [
      ["not", "to", "10.9.0.0/16", "lookup", "main", "priority", "1024"],
      ["not", "to", "10.9.0.0/16", "lookup", "main", "priority", "1025"],
      ["fwmark", "0x80/0x80", "lookup", "main", "priority", "1024"],
      ["to", "192.0.2.0/24", "lookup", "main", "priority", "1535"],
      ["from", "10.0.3.0/24", "lookup", "100", "priority", "1535"],
    ]) {
      await run("ip", ["-n", node.netns, "rule", "add", ...args]);
    }
    await run("ip", ["netns", "exec", node.netns, "nft", "add", "table", "ip", "aws-cni"]);

    await setupNodeNetwork(options(node));
    const state = await snapshot(node);
    // The 1535 rule of another table is not ours and stays.
    assert.deepEqual(state.rules, withRules(FWMARK_RULE, "1535:\tfrom 10.0.3.0/24 lookup 100"));
    // KUBE-SERVICES and its jump are someone else's: kept, ahead of ours as they were.
    assert.deepEqual(state.iptables, [
      ...MANGLE_HEAD,
      ...MANGLE_NODEPORT,
      "COMMIT",
      ...NAT_HEAD,
      ":AWS-CONNMARK-CHAIN-0 -",
      ":AWS-SNAT-CHAIN-0 -",
      ":KUBE-SERVICES -",
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      ...NAT_PREROUTING,
      POSTROUTING_JUMP,
      connmarkReturn("10.0.0.0/16"),
      CONNMARK_SET,
      snatReturn("10.0.0.0/16"),
      SNAT_RULE + " --random-fully",
      "COMMIT",
    ]);
    assert.doesNotMatch(await inNode(node, "nft", ["list", "tables"]), /aws-cni/);

    await setupNodeNetwork(options(node));
    assert.deepEqual(await snapshot(node), state);
  });

  it("validates its inputs before running anything, and reports a missing primary interface", async () => {
    const node = await createTestNode(prefix);
    await assert.rejects(setupNodeNetwork(options(node, { primaryIp: "10.0.1.10 -j ACCEPT" })), DatapathInputError);
    await assert.rejects(setupNodeNetwork(options(node, { vpcCidrs: ["10.0.0.0/33"] })), DatapathInputError);
    await assert.rejects(setupNodeNetwork(options(node, { primaryMac: "--help" })), DatapathInputError);
    await assert.rejects(setupNodeNetwork(options(node, { vethPrefix: "-i" })), DatapathInputError);
    await assert.rejects(setupNodeNetwork(options(node, { connmark: 0 })), DatapathInputError);
    await assert.rejects(setupNodeNetwork(options(node, { netns: "-bad" })), DatapathInputError);
    await assert.rejects(
      setupNodeNetwork(options(node, { primaryMac: "02:dd:00:00:00:99" })),
      (error: unknown) => error instanceof LinkNotFoundError && /02:dd:00:00:00:99/.test(error.message),
    );
    // Nothing was written by any of these.
    assert.deepEqual((await snapshot(node)).rules, BASE_RULES);
  });
});
