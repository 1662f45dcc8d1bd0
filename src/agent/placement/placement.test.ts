// Where new ENIs go, through the agent's AWS cloud against vpcsim's EC2 (real SDK, real wire): each
// rule that picks the ENIConfig, subnet discovery's tag rules, custom networking by tags, and each
// bad input (an event, and no ENI in EC2).

import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { eniConfig, placementRig, type PlacementRig } from "./placement.test-support.ts";
import { CNI_ROLE_TAG } from "./tag-rules.ts";

let p: PlacementRig | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

const IPS = { ipCount: 3 };

async function createdIn(rig: PlacementRig, env: Record<string, string>): Promise<{ subnetId: string; groups: string[]; subnetCidr: string }> {
  const created = await (await rig.cloud(env)).createEni(IPS);
  const eni = rig.enis().find((e) => e.id === created.eniId)!;
  assert.equal(created.subnetId, eni.subnetId);
  return { subnetId: eni.subnetId, groups: eni.groups, subnetCidr: created.subnetCidr };
}

/** The cloud refuses, with one event of this reason, and EC2 has the same ENIs as before. */
async function refused(rig: PlacementRig, env: Record<string, string>, reason: string, message: RegExp): Promise<void> {
  const before = rig.enis();
  const cloud = await rig.cloud(env);
  await assert.rejects(cloud.createEni(IPS), message);
  assert.deepEqual(rig.events.map((e) => e.reason), [reason]);
  assert.match(rig.events[0]!.message, message);
  assert.deepEqual(rig.enis(), before, "no ENI created, none changed");
}

const CUSTOM = { AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: "true" };

test("custom networking: the ENIConfig named by the node's k8s.amazonaws.com/eniConfig label: its subnet and security groups", async () => {
  p = await placementRig();
  p.eniConfigs.set("pods-a", eniConfig("pods-a", p.podSubnetA, [p.podGroup, p.otherGroup]));
  p.node.metadata.labels["k8s.amazonaws.com/eniConfig"] = "pods-a";
  const got = await createdIn(p, CUSTOM);
  assert.equal(got.subnetId, p.podSubnetA);
  assert.equal(got.subnetCidr, "100.64.0.0/19");
  assert.deepEqual(got.groups, [p.podGroup, p.otherGroup].sort());
  assert.deepEqual(p.events, []);
});

test("custom networking: the k8s.amazonaws.com/eniConfig annotation wins over the label; no security groups in the ENIConfig means the primary ENI's", async () => {
  p = await placementRig();
  p.eniConfigs.set("by-label", eniConfig("by-label", p.podSubnetB, [p.podGroup]));
  p.eniConfigs.set("by-annotation", eniConfig("by-annotation", p.podSubnetA));
  p.node.metadata.labels["k8s.amazonaws.com/eniConfig"] = "by-label";
  p.node.metadata.annotations["k8s.amazonaws.com/eniConfig"] = "by-annotation";
  const got = await createdIn(p, CUSTOM);
  assert.equal(got.subnetId, p.podSubnetA);
  assert.deepEqual(got.groups, [...p.primaryGroups].sort());
});

test("custom networking: ENI_CONFIG_LABEL_DEF=topology.kubernetes.io/zone picks one ENIConfig per zone", async () => {
  p = await placementRig();
  p.eniConfigs.set("us-east-1a", eniConfig("us-east-1a", p.podSubnetA, [p.podGroup]));
  p.eniConfigs.set("us-east-1b", eniConfig("us-east-1b", p.podSubnetB, [p.podGroup]));
  p.node.metadata.labels["topology.kubernetes.io/zone"] = "us-east-1a";
  const got = await createdIn(p, { ...CUSTOM, ENI_CONFIG_LABEL_DEF: "topology.kubernetes.io/zone" });
  assert.equal(got.subnetId, p.podSubnetA);
  assert.deepEqual(got.groups, [p.podGroup]);
});

test("custom networking: ENI_CONFIG_ANNOTATION_DEF names the annotation that holds the ENIConfig", async () => {
  p = await placementRig();
  p.eniConfigs.set("blue", eniConfig("blue", p.podSubnetA, [p.otherGroup]));
  p.node.metadata.annotations["example.com/pod-network"] = "blue";
  p.node.metadata.annotations["k8s.amazonaws.com/eniConfig"] = "not-this-one";
  const got = await createdIn(p, { ...CUSTOM, ENI_CONFIG_ANNOTATION_DEF: "example.com/pod-network" });
  assert.equal(got.subnetId, p.podSubnetA);
  assert.deepEqual(got.groups, [p.otherGroup]);
});

test("custom networking, bad input: a missing ENIConfig is an event in the reference's words and no ENI", async () => {
  p = await placementRig();
  p.node.metadata.labels["k8s.amazonaws.com/eniConfig"] = "nowhere";
  await refused(p, CUSTOM, "ENIConfigNotFound", /eniconfig: eniconfig is not available: no ENIConfig named "nowhere" \(from the node's label k8s\.amazonaws\.com\/eniConfig\)/);
});

test("custom networking, bad input: an ENIConfig whose subnet is in another zone than the node is an event and no ENI", async () => {
  p = await placementRig();
  p.eniConfigs.set("default", eniConfig("default", p.podSubnetB, [p.podGroup]));
  await refused(p, CUSTOM, "ENIConfigZoneMismatch", /ENIConfig "default" \(from the node's default.*\) names subnet subnet-\w+ in us-east-1b, but the node is in us-east-1a/);
});

test("custom networking, bad input: an ENIConfig whose subnet was deleted is an event and no ENI", async () => {
  p = await placementRig();
  const { model, vpcId } = p.rig.world;
  const doomed = model.createSubnet({ vpcId, cidrBlock: "100.64.64.0/24", availabilityZone: "us-east-1a" }).subnetId;
  p.eniConfigs.set("default", eniConfig("default", doomed));
  model.deleteSubnet({ subnetId: doomed });
  await refused(p, CUSTOM, "ENIConfigSubnetNotFound", new RegExp(`names subnet ${doomed}, which EC2 does not have`));
});

test("custom networking, bad input: an ENIConfig listing a security group EC2 does not have is an event and no ENI", async () => {
  p = await placementRig();
  p.eniConfigs.set("default", eniConfig("default", p.podSubnetA, ["sg-0123456789abcdef0"]));
  const before = p.enis();
  const cloud = await p.cloud(CUSTOM);
  await assert.rejects(cloud.createEni(IPS), { code: "InvalidGroup.NotFound" });
  assert.deepEqual(p.events.map((e) => e.reason), ["ENIConfigSecurityGroupNotFound"]);
  assert.match(p.events[0]!.message, /ENIConfig "default" .* lists security groups EC2 does not have .*sg-0123456789abcdef0/);
  assert.deepEqual(p.enis(), before, "no ENI created, none changed");
});

test("subnet discovery: the subnet tagged kubernetes.io/role/cni with the most free addresses, with the security groups tagged for pods", async () => {
  p = await placementRig();
  const { model } = p.rig.world;
  model.createTags({ resourceIds: [p.podSubnetA], tags: [{ key: CNI_ROLE_TAG, value: "1" }] });
  // Untagged, bigger, same zone: not for pods (only the primary subnet counts untagged).
  model.createSubnet({ vpcId: p.vpcId, cidrBlock: "100.64.128.0/18", availabilityZone: "us-east-1a" });
  let got = await createdIn(p, {});
  assert.equal(got.subnetId, p.podSubnetA, "8k free beats the primary /24");
  assert.deepEqual(got.groups, [...p.primaryGroups].sort(), "no group tagged: the primary ENI's");

  model.createTags({ resourceIds: [p.podGroup], tags: [{ key: CNI_ROLE_TAG, value: "1" }] });
  model.createTags({ resourceIds: [p.otherGroup], tags: [{ key: CNI_ROLE_TAG, value: "0" }] });
  got = await createdIn(p, {});
  assert.deepEqual(got.groups, [p.podGroup], "the group tagged for pods; the one tagged 0 is not");
});

test("subnet discovery: a subnet that runs out is skipped while another has room; the primary subnet counts untagged", async () => {
  p = await placementRig();
  const { model } = p.rig.world;
  model.createTags({ resourceIds: [p.podSubnetA], tags: [{ key: CNI_ROLE_TAG, value: "1" }] });
  model.setSubnetReservation(p.podSubnetA, model.subnet(p.podSubnetA)!.availableIpAddressCount - 2);
  assert.equal((await createdIn(p, {})).subnetId, p.primarySubnet, "the tagged subnet has 2 free, the ENI needs 4");
  assert.match(p.logs.join("\n"), new RegExp(`subnet ${p.podSubnetA} is skipped`));

  model.setSubnetReservation(p.podSubnetA, 0);
  assert.equal((await createdIn(p, {})).subnetId, p.podSubnetA, "room again");
});

test("subnet discovery: a subnet tagged for another cluster is not this one's; cni=0 on the primary subnet leaves nothing", async () => {
  p = await placementRig();
  const { model } = p.rig.world;
  model.createTags({ resourceIds: [p.podSubnetA], tags: [{ key: CNI_ROLE_TAG, value: "1" }, { key: "cni.networking.k8s.aws/cluster/other", value: "1" }] });
  assert.equal((await createdIn(p, { CLUSTER_NAME: "mine" })).subnetId, p.primarySubnet, "another cluster's subnet");
  assert.equal((await createdIn(p, { CLUSTER_NAME: "other" })).subnetId, p.podSubnetA, "this cluster's subnet");

  model.createTags({ resourceIds: [p.primarySubnet], tags: [{ key: CNI_ROLE_TAG, value: "0" }] });
  model.deleteTags({ resourceIds: [p.podSubnetA], tags: [{ key: CNI_ROLE_TAG }] });
  await refused(p, {}, "NoPodSubnet", /subnet discovery: no subnet .* in us-east-1a is for pods/);
  // ENIs already in such a subnet give pods nothing (the reference's IsExcludedForPodIPs), with discovery only.
  assert.equal(await (await p.cloud({})).subnetExcludedForPods!(p.primarySubnet), true);
  assert.equal(await (await p.cloud({ CLUSTER_NAME: "mine" })).subnetExcludedForPods!(p.podSubnetA), true, "another cluster's");
  assert.equal(await (await p.cloud({ CLUSTER_NAME: "other" })).subnetExcludedForPods!(p.podSubnetA), false);
  assert.equal(await (await p.cloud({ ENABLE_SUBNET_DISCOVERY: "false" })).subnetExcludedForPods!(p.primarySubnet), false);
});

test("discovery off: the primary subnet with the primary ENI's groups, whatever is tagged", async () => {
  p = await placementRig();
  const { model } = p.rig.world;
  model.createTags({ resourceIds: [p.podSubnetA, p.podGroup], tags: [{ key: CNI_ROLE_TAG, value: "1" }] });
  const got = await createdIn(p, { ENABLE_SUBNET_DISCOVERY: "false" });
  assert.equal(got.subnetId, p.primarySubnet);
  assert.deepEqual(got.groups, [...p.primaryGroups].sort());
});

test("custom networking by tags: the tagged subnet of the node's zone and the tagged groups, with no ENIConfig; a node in another zone works with nothing added", async () => {
  p = await placementRig({ zone: "b" });
  const { model } = p.rig.world;
  const env = { AWS_VPC_K8S_CNI_CUSTOM_NETWORK_BY_TAGS: "true" };
  await refused(p, env, "NoPodSubnet", /custom networking by tags: no subnet of vpc-\w+ in us-east-1b is tagged kubernetes\.io\/role\/cni/);
  p.events.length = 0;
  model.createTags({ resourceIds: [p.podSubnetA, p.podSubnetB, p.podGroup], tags: [{ key: CNI_ROLE_TAG, value: "1" }] });
  const got = await createdIn(p, env);
  assert.equal(got.subnetId, p.podSubnetB, "the zone's own tagged subnet, never the primary one");
  assert.deepEqual(got.groups, [p.podGroup]);
  assert.deepEqual(p.events, []);
});
