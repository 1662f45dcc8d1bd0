import { test } from "node:test";
import assert from "node:assert/strict";
import { ACCOUNT, expectEc2Error, makeWorld } from "./model.test-support.ts";

const ID = (prefix: string) => new RegExp(`^${prefix}-[0-9a-f]{17}$`);

test("createVpc: ids, owner, CIDRs, a /56 for IPv6 and a default security group", () => {
  const { model } = makeWorld();
  const vpc = model.createVpc({ cidrBlock: "172.16.0.0/16", cidrBlocks: ["172.16.0.0/16", "100.64.0.0/16"], ipv6: true, tags: [{ key: "Name", value: "v" }] });
  assert.match(vpc.vpcId, ID("vpc"));
  assert.equal(vpc.ownerId, ACCOUNT);
  assert.deepEqual(vpc.cidrBlocks, ["172.16.0.0/16", "100.64.0.0/16"]);
  assert.match(vpc.ipv6CidrBlocks[0] as string, /^2600:1f18:[0-9a-f:]+\/56$/);
  const groups = model.securityGroups().filter((g) => g.vpcId === vpc.vpcId);
  assert.equal(groups.length, 1);
  assert.equal(groups[0]?.groupName, "default");
  assert.match(groups[0]?.groupId as string, ID("sg"));
  assert.deepEqual(model.vpc(vpc.vpcId)?.tags, [{ key: "Name", value: "v" }]);
});

test("createVpc refuses bad CIDRs", () => {
  const { model } = makeWorld();
  expectEc2Error(() => model.createVpc({ cidrBlock: "10.0.0.1/16" }), "InvalidParameterValue");
  expectEc2Error(() => model.createVpc({ cidrBlock: "10.0.0.0/8" }), "InvalidVpc.Range");
  expectEc2Error(() => model.createVpc({ cidrBlock: "10.0.0.0/29" }), "InvalidVpc.Range");
  expectEc2Error(() => model.createVpc({ cidrBlock: "10.0.0.0/16", cidrBlocks: ["10.0.128.0/17"] }), "InvalidVpc.Range");
});

test("createSubnet: zone id derived from the zone name; must be inside the VPC and not overlap", () => {
  const { model, vpcId, subnetId } = makeWorld();
  const a = model.subnet(subnetId);
  assert.equal(a?.availabilityZone, "us-east-1a");
  assert.equal(a?.availabilityZoneId, "use1-az1");
  const c = model.createSubnet({ vpcId, cidrBlock: "10.0.64.0/18", availabilityZone: "us-east-1c" });
  assert.equal(c.availabilityZoneId, "use1-az3");
  assert.match(c.subnetId, ID("subnet"));
  expectEc2Error(() => model.createSubnet({ vpcId, cidrBlock: "10.1.0.0/24", availabilityZone: "us-east-1a" }), "InvalidSubnet.Range");
  expectEc2Error(() => model.createSubnet({ vpcId, cidrBlock: "10.0.0.0/29", availabilityZone: "us-east-1a" }), "InvalidSubnet.Range");
  expectEc2Error(() => model.createSubnet({ vpcId, cidrBlock: "10.0.1.128/25", availabilityZone: "us-east-1a" }), "InvalidSubnet.Conflict", /10\.0\.1\.128\/25/);
  expectEc2Error(() => model.createSubnet({ vpcId, cidrBlock: "10.0.0.0/16", availabilityZone: "us-east-1a" }), "InvalidSubnet.Conflict");
  expectEc2Error(() => model.createSubnet({ vpcId, cidrBlock: "10.0.9.0/24", availabilityZone: "eu-west-1a" }), "InvalidParameterValue");
  expectEc2Error(() => model.createSubnet({ vpcId: "vpc-0123456789abcdef0", cidrBlock: "10.0.9.0/24", availabilityZone: "us-east-1a" }), "InvalidVpcID.NotFound", /'vpc-0123456789abcdef0'/);
  expectEc2Error(() => model.createSubnet({ vpcId: "vpc-nope", cidrBlock: "10.0.9.0/24", availabilityZone: "us-east-1a" }), "InvalidVpcID.Malformed");
  // A subnet in a secondary VPC CIDR is fine.
  const vpc2 = model.createVpc({ cidrBlock: "10.8.0.0/16", cidrBlocks: ["100.64.0.0/16"] });
  model.createSubnet({ vpcId: vpc2.vpcId, cidrBlock: "100.64.4.0/22", availabilityZone: "us-east-1a" });
});

test("createSubnet: IPv6 /64 inside the VPC's /56 only", () => {
  const { model, vpcId, subnetId } = makeWorld();
  const taken = model.subnet(subnetId)?.ipv6CidrBlock as string;
  expectEc2Error(() => model.createSubnet({ vpcId, cidrBlock: "10.0.7.0/24", availabilityZone: "us-east-1a", ipv6CidrBlock: taken }), "InvalidSubnet.Conflict");
  expectEc2Error(() => model.createSubnet({ vpcId, cidrBlock: "10.0.7.0/24", availabilityZone: "us-east-1a", ipv6CidrBlock: "2001:db8::/64" }), "InvalidSubnet.Range");
  expectEc2Error(() => model.createSubnet({ vpcId, cidrBlock: "10.0.7.0/24", availabilityZone: "us-east-1a", ipv6CidrBlock: "2001:db8::/56" }), "InvalidParameterValue");
  const v4only = model.createVpc({ cidrBlock: "10.9.0.0/16" });
  expectEc2Error(() => model.createSubnet({ vpcId: v4only.vpcId, cidrBlock: "10.9.0.0/24", availabilityZone: "us-east-1a", ipv6CidrBlock: "2001:db8::/64" }), "InvalidSubnet.Range");
});

test("availableIpAddressCount and the reservation", () => {
  const { model, subnetId, subnetBId } = makeWorld();
  assert.equal(model.subnet(subnetBId)?.availableIpAddressCount, 251); // /24 minus 5 reserved
  assert.equal(model.subnet(subnetId)?.availableIpAddressCount, 250); // the instance's primary ENI
  model.setSubnetReservation(subnetBId, 240);
  assert.equal(model.subnet(subnetBId)?.availableIpAddressCount, 11);
  model.createNetworkInterface({ subnetId: subnetBId, secondaryPrivateIpAddressCount: 9 });
  assert.equal(model.subnet(subnetBId)?.availableIpAddressCount, 1);
  expectEc2Error(() => model.createNetworkInterface({ subnetId: subnetBId, secondaryPrivateIpAddressCount: 1 }), "InsufficientFreeAddressesInSubnet");
  model.createNetworkInterface({ subnetId: subnetBId });
  expectEc2Error(() => model.createNetworkInterface({ subnetId: subnetBId }), "InsufficientFreeAddressesInSubnet");
  model.setSubnetReservation(subnetBId, 0);
  assert.equal(model.subnet(subnetBId)?.availableIpAddressCount, 240);
  expectEc2Error(() => model.setSubnetReservation("subnet-0123456789abcdef0", 1), "InvalidSubnetID.NotFound");
  expectEc2Error(() => model.setSubnetReservation(subnetBId, -1), "InvalidParameterValue");
});

test("createSecurityGroup: unique name per VPC, VPC must exist", () => {
  const { model, vpcId } = makeWorld();
  const sg = model.createSecurityGroup({ vpcId, groupName: "pods", description: "pod sg" });
  assert.match(sg.groupId, ID("sg"));
  expectEc2Error(() => model.createSecurityGroup({ vpcId, groupName: "pods", description: "x" }), "InvalidGroup.Duplicate");
  expectEc2Error(() => model.createSecurityGroup({ vpcId, groupName: "default", description: "x" }), "InvalidGroup.Duplicate");
  expectEc2Error(() => model.createSecurityGroup({ vpcId: "vpc-0123456789abcdef0", groupName: "x", description: "x" }), "InvalidVpcID.NotFound");
  const other = model.createVpc({ cidrBlock: "10.20.0.0/16" });
  model.createSecurityGroup({ vpcId: other.vpcId, groupName: "pods", description: "same name, other VPC" });
});

test("returned objects are copies", () => {
  const { model, vpcId, subnetId } = makeWorld();
  const vpc = model.vpc(vpcId);
  vpc?.tags.push({ key: "x", value: "y" });
  vpc?.cidrBlocks.push("1.2.3.0/24");
  assert.deepEqual(model.vpc(vpcId)?.tags, []);
  assert.deepEqual(model.vpc(vpcId)?.cidrBlocks, ["10.0.0.0/16"]);
  const subnet = model.describeSubnets({ ids: [subnetId] }).items[0];
  if (subnet) subnet.availableIpAddressCount = 0;
  assert.equal(model.subnet(subnetId)?.availableIpAddressCount, 250);
  const sgs = model.securityGroups();
  if (sgs[0]) sgs[0].groupName = "hacked";
  assert.equal(model.securityGroups()[0]?.groupName, "default");
  const type = model.instanceTypeInfo("m5.large");
  if (type) type.maxEnis = 99;
  assert.equal(model.instanceTypeInfo("m5.large")?.maxEnis, 3);
});

test("describeVpcs / describeSubnets / describeSecurityGroups: ids, filters, tags", () => {
  const { model, vpcId, subnetId, subnetBId } = makeWorld();
  const other = model.createVpc({ cidrBlock: "192.168.0.0/16", tags: [{ key: "env", value: "prod" }] });
  assert.deepEqual(model.describeVpcs({}).items.map((v) => v.vpcId), [vpcId, other.vpcId]);
  assert.deepEqual(model.describeVpcs({ filters: [{ name: "cidr", values: ["192.168.*"] }] }).items.map((v) => v.vpcId), [other.vpcId]);
  assert.deepEqual(model.describeVpcs({ filters: [{ name: "tag:env", values: ["prod"] }] }).items.map((v) => v.vpcId), [other.vpcId]);
  expectEc2Error(() => model.describeVpcs({ ids: ["vpc-0123456789abcdef0"] }), "InvalidVpcID.NotFound", /'vpc-0123456789abcdef0'/);
  expectEc2Error(() => model.describeVpcs({ filters: [{ name: "vpcid", values: ["x"] }] }), "InvalidParameterValue", /'vpcid'/);

  assert.deepEqual(model.describeSubnets({ filters: [{ name: "vpc-id", values: [vpcId] }] }).items.map((s) => s.subnetId), [subnetId, subnetBId]);
  assert.deepEqual(model.describeSubnets({ filters: [{ name: "availability-zone", values: ["us-east-1b"] }] }).items.map((s) => s.subnetId), [subnetBId]);
  assert.deepEqual(model.describeSubnets({ filters: [{ name: "cidr-block", values: ["10.0.1.0/24"] }] }).items.map((s) => s.subnetId), [subnetId]);
  assert.equal(model.describeSubnets({ filters: [{ name: "default-for-az", values: ["false"] }] }).items.length, 2);
  assert.equal(model.describeSubnets({ filters: [{ name: "default-for-az", values: ["true"] }] }).items.length, 0);
  model.createTags({ resourceIds: [subnetBId], tags: [{ key: "kubernetes.io/role/cni", value: "1" }] });
  assert.deepEqual(model.describeSubnets({ filters: [{ name: "tag-key", values: ["kubernetes.io/role/cni"] }] }).items.map((s) => s.subnetId), [subnetBId]);
  assert.equal(model.describeSubnets({ ids: [subnetId] }).items[0]?.availableIpAddressCount, 250);
  expectEc2Error(() => model.describeSubnets({ ids: ["subnet-0123456789abcdef0"] }), "InvalidSubnetID.NotFound", /'subnet-0123456789abcdef0'/);
  expectEc2Error(() => model.describeSubnets({ ids: ["subnet-xyz"] }), "InvalidSubnetID.Malformed");

  const sg = model.createSecurityGroup({ vpcId, groupName: "pods", description: "pod sg" });
  assert.deepEqual(model.describeSecurityGroups({ filters: [{ name: "group-name", values: ["po*"] }] }).items.map((g) => g.groupId), [sg.groupId]);
  assert.equal(model.describeSecurityGroups({ filters: [{ name: "vpc-id", values: [vpcId] }] }).items.length, 2);
  expectEc2Error(() => model.describeSecurityGroups({ ids: ["sg-0123456789abcdef0"] }), "InvalidGroup.NotFound", /'sg-0123456789abcdef0'/);
  expectEc2Error(() => model.describeSecurityGroups({ maxResults: 1 }), "InvalidParameterValue");
});
