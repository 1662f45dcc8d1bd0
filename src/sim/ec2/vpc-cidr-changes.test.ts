// The VPC changing: which secondary IPv4 ranges a VPC may add (EC2's association restrictions),
// DisassociateVpcCidrBlock, DeleteSubnet, and security groups and subnets found by their tags.

import { test } from "node:test";
import assert from "node:assert/strict";
import { expectEc2Error, makeWorld } from "./model.test-support.ts";

test("secondary IPv4 blocks: what the primary CIDR's range allows (100.64.0.0/10 and 198.19.0.0/16 from 10/8), and reserved ranges never", () => {
  const { model, vpcId } = makeWorld(); // primary 10.0.0.0/16
  for (const restricted of ["172.16.0.0/16", "192.168.0.0/16"]) {
    expectEc2Error(() => model.associateVpcCidrBlock({ vpcId, cidrBlock: restricted }), "InvalidVpc.Range", /is restricted/);
  }
  for (const reserved of ["127.0.0.0/16", "169.254.0.0/16", "224.0.0.0/16"]) {
    expectEc2Error(() => model.associateVpcCidrBlock({ vpcId, cidrBlock: reserved }), "InvalidVpc.Range", /reserved/);
  }
  for (const allowed of ["10.1.0.0/16", "100.64.0.0/16", "198.19.0.0/16", "52.10.0.0/16"]) model.associateVpcCidrBlock({ vpcId, cidrBlock: allowed });

  const v172 = model.createVpc({ cidrBlock: "172.20.0.0/16" });
  expectEc2Error(() => model.associateVpcCidrBlock({ vpcId: v172.vpcId, cidrBlock: "10.9.0.0/16" }), "InvalidVpc.Range", /restricted/);
  model.associateVpcCidrBlock({ vpcId: v172.vpcId, cidrBlock: "172.21.0.0/16" });
  model.associateVpcCidrBlock({ vpcId: v172.vpcId, cidrBlock: "100.64.0.0/16" });

  const shared = model.createVpc({ cidrBlock: "100.64.0.0/16" });
  for (const restricted of ["10.0.0.0/16", "198.19.0.0/16"]) {
    expectEc2Error(() => model.associateVpcCidrBlock({ vpcId: shared.vpcId, cidrBlock: restricted }), "InvalidVpc.Range", /restricted/);
  }
  // The same rules when a VPC is created with several blocks.
  expectEc2Error(() => model.createVpc({ cidrBlock: "10.7.0.0/16", cidrBlocks: ["192.168.0.0/16"] }), "InvalidVpc.Range", /restricted/);
  expectEc2Error(() => model.createVpc({ cidrBlock: "127.0.0.0/16" }), "InvalidVpc.Range", /reserved/);
});

test("DisassociateVpcCidrBlock: a secondary block goes (disassociating, then disassociated: not routed, not shown); never the primary, never with a subnet in it", () => {
  const { model, clock, events, vpcId } = makeWorld();
  const added = model.associateVpcCidrBlock({ vpcId, cidrBlock: "100.64.0.0/16" }).cidrBlockAssociation!;
  clock.advance(0);
  const subnet = model.createSubnet({ vpcId, cidrBlock: "100.64.0.0/24", availabilityZone: "us-east-1a" });
  expectEc2Error(() => model.disassociateVpcCidrBlock({ associationId: added.associationId }), "InvalidCidrBlock.InUse", /currently has a subnet within CIDR block 100.64.0.0\/16/);
  const primary = model.vpc(vpcId)!.cidrBlockAssociations[0]!;
  expectEc2Error(() => model.disassociateVpcCidrBlock({ associationId: primary.associationId }), "OperationNotPermitted", /primary IPv4 CIDR block/);
  expectEc2Error(() => model.disassociateVpcCidrBlock({ associationId: "vpc-cidr-assoc-0123456789abcdef0" }), "InvalidVpcCidrBlockAssociationID.NotFound");

  model.deleteSubnet({ subnetId: subnet.subnetId });
  events.length = 0;
  const out = model.disassociateVpcCidrBlock({ associationId: added.associationId });
  assert.equal(out.cidrBlockAssociation?.state, "disassociating");
  assert.deepEqual(model.vpc(vpcId)?.cidrBlocks, ["10.0.0.0/16", "100.64.0.0/16"], "in effect until the disassociation completes");
  clock.advance(0);
  const vpc = model.vpc(vpcId)!;
  assert.deepEqual(vpc.cidrBlocks, ["10.0.0.0/16"]);
  assert.equal(vpc.cidrBlockAssociations.find((a) => a.associationId === added.associationId)?.state, "disassociated", "DescribeVpcs keeps showing it, disassociated");
  assert.deepEqual(events.map((e) => e.kind === "vpc-cidr-disassociated" && e.cidr), ["100.64.0.0/16"]);
  expectEc2Error(() => model.disassociateVpcCidrBlock({ associationId: added.associationId }), "InvalidVpcCidrBlockAssociationID.NotFound");
  expectEc2Error(() => model.createSubnet({ vpcId, cidrBlock: "100.64.1.0/24", availabilityZone: "us-east-1a" }), "InvalidSubnet.Range");
  // And it can come back.
  model.associateVpcCidrBlock({ vpcId, cidrBlock: "100.64.0.0/16" });
  clock.advance(0);
  assert.deepEqual(model.vpc(vpcId)?.cidrBlocks, ["10.0.0.0/16", "100.64.0.0/16"]);
});

test("DeleteSubnet: refused while an ENI is in it; afterwards unknown to Describe and to CreateNetworkInterface", () => {
  const { model, events, subnetBId } = makeWorld();
  const eni = model.createNetworkInterface({ subnetId: subnetBId });
  expectEc2Error(() => model.deleteSubnet({ subnetId: subnetBId }), "DependencyViolation", /has dependencies/);
  model.deleteNetworkInterface({ networkInterfaceId: eni.networkInterfaceId });
  events.length = 0;
  model.deleteSubnet({ subnetId: subnetBId });
  assert.deepEqual(events.map((e) => e.kind), ["subnet-deleted"]);
  expectEc2Error(() => model.describeSubnets({ ids: [subnetBId] }), "InvalidSubnetID.NotFound");
  expectEc2Error(() => model.createNetworkInterface({ subnetId: subnetBId }), "InvalidSubnetID.NotFound");
  expectEc2Error(() => model.deleteSubnet({ subnetId: subnetBId }), "InvalidSubnetID.NotFound");
});

test("subnets and security groups found by their tags; CreateTags and DeleteTags change what the filters find", () => {
  const { model, vpcId, subnetId, subnetBId } = makeWorld();
  const pods = model.createSecurityGroup({ vpcId, groupName: "pods", description: "pods", tags: [{ key: "kubernetes.io/role/cni", value: "1" }] });
  model.createSecurityGroup({ vpcId, groupName: "other", description: "other" });
  const tagged = (filters: { name: string; values: string[] }[]) => model.describeSecurityGroups({ filters }).items.map((g) => g.groupId);
  assert.deepEqual(tagged([{ name: "tag-key", values: ["kubernetes.io/role/cni"] }]), [pods.groupId]);
  model.createTags({ resourceIds: [subnetBId], tags: [{ key: "kubernetes.io/role/cni", value: "1" }] });
  const subnets = () => model.describeSubnets({ filters: [{ name: "vpc-id", values: [vpcId] }, { name: "tag:kubernetes.io/role/cni", values: ["1"] }] }).items.map((s) => s.subnetId);
  assert.deepEqual(subnets(), [subnetBId]);
  model.createTags({ resourceIds: [subnetId], tags: [{ key: "kubernetes.io/role/cni", value: "1" }] });
  assert.deepEqual(subnets(), [subnetId, subnetBId]);
  model.deleteTags({ resourceIds: [subnetBId, pods.groupId], tags: [{ key: "kubernetes.io/role/cni" }] });
  assert.deepEqual(subnets(), [subnetId]);
  assert.deepEqual(tagged([{ name: "tag-key", values: ["kubernetes.io/role/cni"] }]), []);
});
