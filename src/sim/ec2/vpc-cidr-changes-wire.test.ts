// The VPC-changing actions through the real SDK against the real model: CreateSecurityGroup with
// tags, DisassociateVpcCidrBlock and DeleteSubnet, answered as EC2 answers them.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  AssociateVpcCidrBlockCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  DeleteSubnetCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  DisassociateVpcCidrBlockCommand,
} from "@aws-sdk/client-ec2";
import { start, stop, type Rig } from "./server.test-support.ts";

let rig: Rig;
before(async () => {
  rig = await start();
});
after(() => stop(rig));

test("CreateSecurityGroup, a secondary CIDR with a subnet, DeleteSubnet and DisassociateVpcCidrBlock through the SDK", async () => {
  const { client, world } = rig;
  const vpcId = world.vpcId;
  const group = await client.send(
    new CreateSecurityGroupCommand({
      VpcId: vpcId,
      GroupName: "pods",
      Description: "pod ENIs",
      TagSpecifications: [{ ResourceType: "security-group", Tags: [{ Key: "kubernetes.io/role/cni", Value: "1" }] }],
    }),
  );
  assert.match(group.GroupId ?? "", /^sg-[0-9a-f]{17}$/);
  const found = await client.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "tag-key", Values: ["kubernetes.io/role/cni"] }] }));
  assert.deepEqual(found.SecurityGroups?.map((g) => [g.GroupId, g.GroupName]), [[group.GroupId, "pods"]]);
  await assert.rejects(client.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: "pods", Description: "again" })), { name: "InvalidGroup.Duplicate" });

  await assert.rejects(client.send(new AssociateVpcCidrBlockCommand({ VpcId: vpcId, CidrBlock: "192.168.0.0/16" })), { name: "InvalidVpc.Range" });
  const associated = await client.send(new AssociateVpcCidrBlockCommand({ VpcId: vpcId, CidrBlock: "100.64.0.0/16" }));
  const associationId = associated.CidrBlockAssociation?.AssociationId ?? "";
  world.clock.advance(0);
  const subnet = await client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "100.64.0.0/19", AvailabilityZone: "us-east-1a" }));
  await assert.rejects(client.send(new DisassociateVpcCidrBlockCommand({ AssociationId: associationId })), { name: "InvalidCidrBlock.InUse" });
  await client.send(new DeleteSubnetCommand({ SubnetId: subnet.Subnet?.SubnetId }));
  const out = await client.send(new DisassociateVpcCidrBlockCommand({ AssociationId: associationId }));
  assert.equal(out.VpcId, vpcId);
  assert.equal(out.CidrBlockAssociation?.CidrBlock, "100.64.0.0/16");
  assert.equal(out.CidrBlockAssociation?.CidrBlockState?.State, "disassociating");
  world.clock.advance(0);
  const vpc = (await client.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).Vpcs?.[0];
  assert.deepEqual(vpc?.CidrBlockAssociationSet?.map((a) => [a.CidrBlock, a.CidrBlockState?.State]), [
    ["10.0.0.0/16", "associated"],
    ["100.64.0.0/16", "disassociated"],
  ]);
});
