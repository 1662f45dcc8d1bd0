// IPv6 through the wire layer: the real @aws-sdk/client-ec2 sends each IPv6 action and parses
// EC2's answers, in front of the real EC2 model on a manual clock.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  AssignIpv6AddressesCommand,
  AssociateSubnetCidrBlockCommand,
  AssociateVpcCidrBlockCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  CreateSubnetCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  RunInstancesCommand,
  UnassignIpv6AddressesCommand,
} from "@aws-sdk/client-ec2";
import { subnet64 } from "./model.test-support.ts";
import { sdkError, start, stop, type Rig } from "./server.test-support.ts";

describe("IPv6 through the SDK", () => {
  let rig: Rig;
  before(async () => {
    rig = await start();
  });
  after(() => stop(rig));

  test("AssociateVpcCidrBlock, CreateSubnet and AssociateSubnetCidrBlock: a dual-stack VPC built through the API", async () => {
    const { client, world } = rig;
    const vpc = world.model.createVpc({ cidrBlock: "10.20.0.0/16" });
    const associated = await client.send(new AssociateVpcCidrBlockCommand({ VpcId: vpc.vpcId, AmazonProvidedIpv6CidrBlock: true }));
    assert.equal(associated.VpcId, vpc.vpcId);
    const block = associated.Ipv6CidrBlockAssociation!;
    assert.match(block.Ipv6CidrBlock!, /^2600:1f18:[0-9a-f:]+\/56$/);
    assert.match(block.AssociationId!, /^vpc-cidr-assoc-[0-9a-f]{17}$/);
    assert.equal(block.Ipv6CidrBlockState?.State, "associating");
    assert.equal(block.NetworkBorderGroup, "us-east-1");
    assert.equal(block.Ipv6Pool, "Amazon");
    const secondary = await client.send(new AssociateVpcCidrBlockCommand({ VpcId: vpc.vpcId, CidrBlock: "100.64.0.0/16" }));
    assert.equal(secondary.CidrBlockAssociation?.CidrBlock, "100.64.0.0/16");
    assert.equal(secondary.CidrBlockAssociation?.CidrBlockState?.State, "associating");

    world.clock.advance(0);
    const described = (await client.send(new DescribeVpcsCommand({ VpcIds: [vpc.vpcId] }))).Vpcs![0]!;
    assert.deepEqual(
      described.Ipv6CidrBlockAssociationSet?.map((a) => [a.Ipv6CidrBlock, a.Ipv6CidrBlockState?.State, a.AssociationId]),
      [[block.Ipv6CidrBlock, "associated", block.AssociationId]],
    );
    assert.deepEqual(
      described.CidrBlockAssociationSet?.map((a) => [a.CidrBlock, a.CidrBlockState?.State]),
      [["10.20.0.0/16", "associated"], ["100.64.0.0/16", "associated"]],
    );

    const created = await client.send(
      new CreateSubnetCommand({
        VpcId: vpc.vpcId,
        CidrBlock: "10.20.1.0/24",
        Ipv6CidrBlock: subnet64(block.Ipv6CidrBlock!, 1),
        AvailabilityZone: "us-east-1a",
        TagSpecifications: [{ ResourceType: "subnet", Tags: [{ Key: "Name", Value: "dual" }] }],
      }),
    );
    const subnet = created.Subnet!;
    assert.equal(subnet.VpcId, vpc.vpcId);
    assert.equal(subnet.AvailableIpAddressCount, 251);
    assert.deepEqual(subnet.Tags, [{ Key: "Name", Value: "dual" }]);
    assert.deepEqual(subnet.Ipv6CidrBlockAssociationSet?.map((a) => [a.Ipv6CidrBlock, a.Ipv6CidrBlockState?.State]), [
      [subnet64(block.Ipv6CidrBlock!, 1), "associated"],
    ]);
    const native = await sdkError(client.send(new CreateSubnetCommand({ VpcId: vpc.vpcId, Ipv6Native: true, Ipv6CidrBlock: subnet64(block.Ipv6CidrBlock!, 2), AvailabilityZone: "us-east-1a" })));
    assert.equal(native.name, "InvalidParameterValue");

    const plain = await client.send(new CreateSubnetCommand({ VpcId: vpc.vpcId, CidrBlock: "100.64.0.0/24", AvailabilityZone: "us-east-1b" }));
    const asked = await client.send(new AssociateSubnetCidrBlockCommand({ SubnetId: plain.Subnet!.SubnetId, Ipv6CidrBlock: subnet64(block.Ipv6CidrBlock!, 2) }));
    assert.equal(asked.SubnetId, plain.Subnet!.SubnetId);
    assert.equal(asked.Ipv6CidrBlockAssociation?.Ipv6CidrBlockState?.State, "associating");
    assert.match(asked.Ipv6CidrBlockAssociation!.AssociationId!, /^subnet-cidr-assoc-[0-9a-f]{17}$/);
    world.clock.advance(0);
    const after = (await client.send(new DescribeSubnetsCommand({ SubnetIds: [plain.Subnet!.SubnetId!] }))).Subnets![0]!;
    assert.equal(after.Ipv6CidrBlockAssociationSet?.[0]?.Ipv6CidrBlockState?.State, "associated");
    assert.equal(after.Ipv6Native, false);
    assert.equal(after.AssignIpv6AddressOnCreation, false);

    const again = await sdkError(client.send(new AssociateVpcCidrBlockCommand({ VpcId: vpc.vpcId, AmazonProvidedIpv6CidrBlock: true })));
    assert.equal(again.name, "CidrLimitExceeded");
    const twice = await sdkError(client.send(new AssociateSubnetCidrBlockCommand({ SubnetId: subnet.SubnetId, Ipv6CidrBlock: subnet64(block.Ipv6CidrBlock!, 3) })));
    assert.equal(twice.name, "CidrLimitExceeded");
  });

  test("IPv6 addresses and /80 prefixes: create, assign, describe, unassign, with EC2's wire names", async () => {
    const { client, world } = rig;
    const cidr6 = world.model.subnet(world.subnetId)!.ipv6CidrBlock!;
    const net = cidr6.slice(0, -"::/64".length);
    const created = (
      await client.send(new CreateNetworkInterfaceCommand({ SubnetId: world.subnetId, Ipv6AddressCount: 2 }))
    ).NetworkInterface!;
    assert.equal(created.Ipv6Addresses?.length, 2);
    assert.ok(created.Ipv6Addresses!.every((a) => a.Ipv6Address!.startsWith(`${net}:`) && a.IsPrimaryIpv6 === false));
    const withPrefix = (
      await client.send(new CreateNetworkInterfaceCommand({ SubnetId: world.subnetId, Ipv6Prefixes: [{ Ipv6Prefix: `${net}:77::/80` }] }))
    ).NetworkInterface!;
    assert.deepEqual(withPrefix.Ipv6Prefixes, [{ Ipv6Prefix: `${net}:77::/80` }]);

    const eniId = created.NetworkInterfaceId!;
    await client.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eniId, InstanceId: world.instanceId, DeviceIndex: 1 }));
    world.clock.advance(world.timings.attachMs);
    const byList = await client.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eniId, Ipv6Addresses: [`${net}::1:2`] }));
    assert.deepEqual(byList.AssignedIpv6Addresses, [`${net}::1:2`]);
    const byCount = await client.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eniId, Ipv6PrefixCount: 1 }));
    assert.equal(byCount.NetworkInterfaceId, eniId);
    assert.equal(byCount.AssignedIpv6Prefixes?.length, 1);
    const prefix = byCount.AssignedIpv6Prefixes![0]!;
    assert.match(prefix, /\/80$/);
    const explicit = await client.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eniId, Ipv6Prefixes: [`${net}:78::/80`] }));
    assert.deepEqual(explicit.AssignedIpv6Prefixes, [`${net}:78::/80`]);

    const described = (await client.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }))).NetworkInterfaces![0]!;
    assert.deepEqual(described.Ipv6Addresses?.map((a) => a.Ipv6Address).sort(), [...created.Ipv6Addresses!.map((a) => a.Ipv6Address!), `${net}::1:2`].sort());
    assert.deepEqual(described.Ipv6Prefixes?.map((p) => p.Ipv6Prefix).sort(), [prefix, `${net}:78::/80`].sort());
    const found = await client.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "ipv6-addresses.ipv6-address", Values: [`${net}::1:2`] }] }),
    );
    assert.deepEqual(found.NetworkInterfaces?.map((e) => e.NetworkInterfaceId), [eniId]);
    const instance = (await client.send(new DescribeInstancesCommand({ InstanceIds: [world.instanceId] }))).Reservations![0]!.Instances![0]!;
    const onInstance = instance.NetworkInterfaces!.find((n) => n.NetworkInterfaceId === eniId)!;
    assert.equal(onInstance.Ipv6Addresses?.length, 3);
    assert.equal(onInstance.Ipv6Prefixes?.length, 2);

    const unassigned = await client.send(
      new UnassignIpv6AddressesCommand({ NetworkInterfaceId: eniId, Ipv6Addresses: [`${net}::1:2`], Ipv6Prefixes: [prefix] }),
    );
    assert.equal(unassigned.NetworkInterfaceId, eniId);
    assert.deepEqual(unassigned.UnassignedIpv6Addresses, [`${net}::1:2`]);
    assert.deepEqual(unassigned.UnassignedIpv6Prefixes, [prefix]);

    // m5.large: 10 IPv6 slots per ENI, addresses and prefixes together; 3 are taken.
    const full = await sdkError(client.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eniId, Ipv6AddressCount: 8 })));
    assert.equal(full.name, "InvalidParameterValue");
    assert.match(full.message, /IPv6/);
    const mixed = await sdkError(client.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eniId, Ipv6AddressCount: 1, Ipv6PrefixCount: 1 })));
    assert.equal(mixed.name, "InvalidParameterCombination");
    const v4only = await sdkError(
      client.send(new CreateNetworkInterfaceCommand({ SubnetId: world.subnetBId, Ipv6AddressCount: 1 })),
    );
    assert.equal(v4only.name, "InvalidParameterValue");
  });

  test("RunInstances with IPv6 at the instance and at the network interface", async () => {
    const { client, world } = rig;
    const top = await client.send(
      new RunInstancesCommand({ MinCount: 1, MaxCount: 1, InstanceType: "m5.large", SubnetId: world.subnetId, Ipv6AddressCount: 1 }),
    );
    assert.equal(top.Instances?.[0]?.NetworkInterfaces?.[0]?.Ipv6Addresses?.length, 1);
    const nic = await client.send(
      new RunInstancesCommand({
        MinCount: 1,
        MaxCount: 1,
        InstanceType: "m5.large",
        NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: world.subnetId, Ipv6PrefixCount: 1 }],
      }),
    );
    assert.match(nic.Instances![0]!.NetworkInterfaces![0]!.Ipv6Prefixes![0]!.Ipv6Prefix!, /\/80$/);
    const xen = await sdkError(
      client.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, InstanceType: "m4.large", NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: world.subnetId, Ipv6PrefixCount: 1 }] })),
    );
    assert.equal(xen.name, "InvalidParameterValue");
    assert.match(xen.message, /Nitro/);
    const both = await sdkError(
      client.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, InstanceType: "m5.large", SubnetId: world.subnetId, Ipv6AddressCount: 1, Ipv6Addresses: [{ Ipv6Address: "2600::1" }] })),
    );
    assert.equal(both.name, "InvalidParameterCombination");
  });
});
