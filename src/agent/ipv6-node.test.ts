// The node agent on an IPv6 node, against an in-memory EC2: exactly one /80 on the primary ENI
// (assigned on the first start, reused after a restart, the first of several), pods' addresses from it
// (the base address first, as the reference's datastore), the checkpoint's "ipv6" entries written and
// taken back, no pool and no EC2 call for pods, and no ENI but the primary looked at.

import { afterEach, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, type AgentConfig } from "./config.ts";
import { CheckpointFile } from "./datastore/checkpoint.ts";
import { Datastore } from "./datastore/datastore.ts";
import { restoreCheckpoint } from "./datastore/restore.ts";
import { NodeAgent, type AgentCloud, type AgentHost, type NodeIdentity } from "./node-agent.ts";
import { realScheduler } from "../time/scheduler.ts";

const PRIMARY = "eni-primary";
const identity: NodeIdentity = {
  instanceId: "i-1",
  instanceType: "m5.large",
  availabilityZone: "us-east-1a",
  region: "us-east-1",
  primaryMac: "02:00:00:00:00:00",
  primaryIp: "10.0.0.10",
  primaryIpv6: "2600:1f10:4000:0:1::a",
  primaryEniId: PRIMARY,
  vpcId: "vpc-1",
  subnetId: "subnet-1",
  accountId: undefined,
  subnetCidr: "10.0.0.0/20",
  securityGroupIds: ["sg-1"],
  vpcCidrs: ["10.0.0.0/16"],
};

/** EC2 and IMDS for one IPv6 node; every call recorded. The pool's calls fail: an IPv6 node makes none. */
class Ipv6Cloud implements AgentCloud {
  readonly calls: string[] = [];
  prefixes: string[] = [];
  refuse: string | undefined;
  #next = 0x10;
  async identity() {
    return identity;
  }
  async imdsEnis(): Promise<never> {
    throw new Error("an IPv6 node reads no ENI list");
  }
  async ec2Enis(): Promise<never> {
    throw new Error("an IPv6 node describes no other ENI");
  }
  async ec2AttachedEnis(): Promise<never> {
    throw new Error("an IPv6 node lists no attached ENI");
  }
  async tagEni(id: string) {
    this.calls.push(`tag ${id}`);
  }
  async ipv6Prefixes(id: string) {
    this.calls.push(`describe ${id}`);
    return [...this.prefixes];
  }
  async assignIpv6Prefix(id: string) {
    this.calls.push(`AssignIpv6Addresses ${id} Ipv6PrefixCount=1`);
    if (this.refuse !== undefined) throw new Error(this.refuse);
    const p = `2600:1f10:4000:0:${(this.#next++).toString(16)}::/80`;
    this.prefixes.push(p);
    return [p];
  }
  async vpcIpv6Cidrs() {
    return ["2600:1f10:4000::/56"];
  }
  async assign(): Promise<never> {
    throw new Error("no pool on an IPv6 node");
  }
  async createEni(): Promise<never> {
    throw new Error("no further ENI on an IPv6 node");
  }
  async release(): Promise<never> {
    throw new Error("no pool on an IPv6 node");
  }
  async freeEni(): Promise<never> {
    throw new Error("no further ENI on an IPv6 node");
  }
  async ec2UnattachedOwnEnis(): Promise<never> {
    throw new Error("an IPv6 node creates no ENI, so has none left unattached");
  }
  async deleteEni(): Promise<never> {
    throw new Error("no further ENI on an IPv6 node");
  }
  growthPausedUntil() {
    return 0;
  }
}

class Host implements AgentHost {
  readonly calls: string[] = [];
  async setupNode() {
    this.calls.push("setupNode");
  }
  async setupEni(): Promise<never> {
    throw new Error("no ENI setup on an IPv6 node");
  }
  async teardownEni(): Promise<never> {
    throw new Error("no ENI teardown on an IPv6 node");
  }
  async vethExists() {
    return true;
  }
}

function v6Config(): AgentConfig {
  const loaded = loadConfig({ ENABLE_IPv4: "false", ENABLE_IPv6: "true", ENABLE_PREFIX_DELEGATION: "true" });
  if (!loaded.ok) throw new Error("bad test configuration");
  return loaded.config;
}

let dir = "";
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "ipv6-node-"))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** One agent start: datastore on the checkpoint in `dir`, node initialised, checkpoint restored. */
async function start(cloud: Ipv6Cloud, host = new Host()) {
  const checkpoint = new CheckpointFile(join(dir, "ipam.json"));
  const datastore = new Datastore({ now: Date.now, family: "6", prefixDelegation: true, persist: (d) => checkpoint.write(d) });
  const logs: string[] = [];
  const agent = new NodeAgent({
    config: v6Config(),
    cloud,
    host,
    datastore,
    limits: { enis: 3, ipv4PerEni: 10, trunking: false, maxPods: 110 },
    scheduler: realScheduler,
    log: (_l, msg) => logs.push(msg),
  });
  await agent.init();
  const restored = await restoreCheckpoint(datastore, checkpoint, { hostLinkExists: (n, s) => host.vethExists(), vethPrefix: "eni" });
  agent.start();
  return { agent, datastore, logs, restored, host };
}

const key = (i: number) => ({ networkName: "aws-cni", containerID: `c${i}`, ifName: "eth0" });
const pod = (i: number) => ({ k8sPodNamespace: "default", k8sPodName: `p${i}`, k8sPodUID: `u${i}` });

describe("IPv6 node", () => {
  test("the first start assigns one /80 to the primary ENI; pods get its addresses, base first, with no EC2 call", async () => {
    const cloud = new Ipv6Cloud();
    const { agent, datastore, host } = await start(cloud);
    assert.deepEqual(cloud.calls, ["describe eni-primary", "AssignIpv6Addresses eni-primary Ipv6PrefixCount=1", "tag eni-primary"]);
    assert.deepEqual(host.calls, ["setupNode"]);
    assert.equal(agent.ipv6?.prefix, "2600:1f10:4000:0:10::/80");
    assert.deepEqual(agent.ipv6?.vpcIpv6Cidrs, ["2600:1f10:4000::/56"]);
    cloud.calls.length = 0;
    const got = [];
    for (let i = 0; i < 50; i++) got.push((await agent.allocate(key(i), pod(i))).address);
    assert.equal(got[0], "2600:1f10:4000:0:10::");
    assert.equal(got[1], "2600:1f10:4000:0:10::1");
    assert.equal(new Set(got).size, 50);
    const first = await agent.allocate(key(0), pod(0));
    assert.equal(first.reused, true);
    assert.equal(first.family, "6");
    assert.equal(first.routeTableId, 254);
    assert.equal(agent.release(key(3))?.address, "2600:1f10:4000:0:10::3");
    assert.equal(agent.release(key(3)), undefined, "DEL twice");
    assert.deepEqual(cloud.calls, [], "pods make no EC2 call");
    assert.equal(datastore.snapshot().enis.length, 1);
    await agent.stop();
  });

  test("the checkpoint holds the reference's ipv6 entries; a restart reuses the /80 and takes the pods back", async () => {
    const cloud = new Ipv6Cloud();
    const one = await start(cloud);
    await one.agent.allocate(key(1), pod(1));
    await one.agent.allocate(key(2), pod(2));
    await one.agent.stop();
    const text = readFileSync(join(dir, "ipam.json"), "utf8");
    assert.match(text, /^\{"version":"vpc-cni-ipam\/1","allocations":\[\{"networkName":"aws-cni","containerID":"c1","ifName":"eth0","ipv6":"2600:1f10:4000:0:10::","allocationTimestamp":\d{19},"metadata":\{"k8sPodNamespace":"default","k8sPodName":"p1","interfacesCount":1\}\},/);
    assert.doesNotMatch(text, /"ipv4"/);

    cloud.calls.length = 0;
    const two = await start(cloud);
    assert.deepEqual(cloud.calls, ["describe eni-primary", "tag eni-primary"], "no second prefix");
    assert.equal(two.agent.ipv6?.prefix, "2600:1f10:4000:0:10::/80");
    assert.equal(two.restored.adopted.length, 2);
    assert.equal((await two.agent.allocate(key(1), pod(1))).reused, true);
    assert.equal((await two.agent.allocate(key(3), pod(3))).address, "2600:1f10:4000:0:10::2");
    await two.agent.stop();
  });

  test("with several /80s on the primary ENI the first serves, and the others are named in a warning", async () => {
    const cloud = new Ipv6Cloud();
    cloud.prefixes = ["2600:1f10:4000:0:aa::/80", "2600:1f10:4000:0:bb::/80"];
    const { agent, logs } = await start(cloud);
    assert.equal(agent.ipv6?.prefix, "2600:1f10:4000:0:aa::/80");
    assert.ok(logs.some((l) => /has 2 IPv6 prefixes; pods get addresses from the first, 2600:1f10:4000:0:aa::\/80/.test(l)), logs.join("\n"));
    assert.equal((await agent.allocate(key(1), pod(1))).address, "2600:1f10:4000:0:aa::");
    await agent.stop();
  });

  test("stopping refuses new pods, and the reconciler never looks at ENIs", async () => {
    const cloud = new Ipv6Cloud();
    const { agent } = await start(cloud);
    const report = await agent.reconcile();
    assert.equal(report.checkedEc2, false);
    await agent.stop();
    await assert.rejects(agent.allocate(key(9), pod(9)), /shutting down/);
  });

  test("a primary ENI EC2 gives no /80 (an IPv4-only subnet) stops the start with the host untouched", async () => {
    const cloud = new Ipv6Cloud();
    cloud.refuse = "InvalidParameterValue: the subnet has no IPv6 CIDR block";
    const host = new Host();
    await assert.rejects(start(cloud, host), /ENABLE_IPv6=true but EC2 gives the primary ENI eni-primary no \/80 prefix \(IPv6 pods need a dual-stack subnet.*\): InvalidParameterValue: the subnet has no IPv6 CIDR block/);
    assert.deepEqual(host.calls, [], "no host networking set up");
  });
});
