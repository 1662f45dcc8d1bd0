import { test } from "node:test";
import assert from "node:assert/strict";
import { expectEc2Error, makeWorld, subnet64 } from "./model.test-support.ts";
import type { WorldEvent } from "./types.ts";

const associated = (events: WorldEvent[]) => events.filter((e) => e.kind === "vpc-cidr-associated" || e.kind === "subnet-cidr-associated");

test("AssociateVpcCidrBlock with AmazonProvidedIpv6CidrBlock: a /56, associating until the clock moves, then associated, routed and usable", () => {
  const { model, clock, events } = makeWorld();
  const vpc = model.createVpc({ cidrBlock: "10.5.0.0/16" });
  assert.deepEqual(vpc.ipv6CidrBlockAssociations, []);
  const subnet = model.createSubnet({ vpcId: vpc.vpcId, cidrBlock: "10.5.0.0/24", availabilityZone: "us-east-1a" });
  events.length = 0;

  const out = model.associateVpcCidrBlock({ vpcId: vpc.vpcId, amazonProvidedIpv6CidrBlock: true });
  const association = out.ipv6CidrBlockAssociation!;
  assert.equal(out.vpcId, vpc.vpcId);
  assert.match(association.ipv6CidrBlock, /^2600:1f18:[0-9a-f:]+00::\/56$/);
  assert.match(association.associationId, /^vpc-cidr-assoc-[0-9a-f]{17}$/);
  assert.equal(association.state, "associating");
  assert.equal(association.networkBorderGroup, "us-east-1");
  assert.equal(association.ipv6Pool, "Amazon");
  assert.deepEqual(model.vpc(vpc.vpcId)?.ipv6CidrBlocks, [], "not in effect while associating");
  expectEc2Error(
    () => model.associateSubnetCidrBlock({ subnetId: subnet.subnetId, ipv6CidrBlock: subnet64(association.ipv6CidrBlock, 1) }),
    "InvalidSubnet.Range",
    /not within the VPC's IPv6 CIDR/,
  );
  assert.deepEqual(associated(events), []);

  clock.advance(0);
  const after = model.vpc(vpc.vpcId)!;
  assert.equal(after.ipv6CidrBlockAssociations[0]?.state, "associated");
  assert.deepEqual(after.ipv6CidrBlocks, [association.ipv6CidrBlock]);
  assert.deepEqual(associated(events).map((e) => e.kind === "vpc-cidr-associated" && e.cidr), [association.ipv6CidrBlock]);
  const page = model.describeVpcs({ filters: [{ name: "ipv6-cidr-block-association.state", values: ["associated"] }] });
  assert.ok(page.items.some((v) => v.vpcId === vpc.vpcId));
  assert.ok(!model.describeVpcs({ filters: [{ name: "ipv6-cidr-block-association.state", values: ["associating"] }] }).items.length);

  // One Amazon-provided block per network border group, and only this Region's group exists.
  expectEc2Error(() => model.associateVpcCidrBlock({ vpcId: vpc.vpcId, amazonProvidedIpv6CidrBlock: true }), "CidrLimitExceeded", /IPv6/);
  const other = model.createVpc({ cidrBlock: "10.6.0.0/16" });
  expectEc2Error(
    () => model.associateVpcCidrBlock({ vpcId: other.vpcId, amazonProvidedIpv6CidrBlock: true, ipv6CidrBlockNetworkBorderGroup: "us-west-2" }),
    "InvalidParameterValue",
  );
  const second = model.associateVpcCidrBlock({ vpcId: other.vpcId, amazonProvidedIpv6CidrBlock: true, ipv6CidrBlockNetworkBorderGroup: "us-east-1" });
  assert.notEqual(second.ipv6CidrBlockAssociation?.ipv6CidrBlock, association.ipv6CidrBlock, "no two VPCs share a /56");
});

test("AssociateVpcCidrBlock: exactly one kind of block, and no BYOIP pools", () => {
  const { model, vpcId } = makeWorld();
  expectEc2Error(() => model.associateVpcCidrBlock({ vpcId }), "MissingParameter");
  expectEc2Error(() => model.associateVpcCidrBlock({ vpcId, amazonProvidedIpv6CidrBlock: false }), "MissingParameter");
  expectEc2Error(() => model.associateVpcCidrBlock({ vpcId, cidrBlock: "10.9.0.0/16", amazonProvidedIpv6CidrBlock: true }), "InvalidParameterCombination");
  expectEc2Error(() => model.associateVpcCidrBlock({ vpcId, ipv6Pool: "ipv6pool-ec2-0123456789abcdef0" }), "InvalidParameterValue", /BYOIP/);
  expectEc2Error(() => model.associateVpcCidrBlock({ vpcId, cidrBlock: "10.9.0.0/16", ipv6CidrBlockNetworkBorderGroup: "us-east-1" }), "InvalidParameterCombination");
  expectEc2Error(() => model.associateVpcCidrBlock({ vpcId: "vpc-0123456789abcdef0", amazonProvidedIpv6CidrBlock: true }), "InvalidVpcID.NotFound");
  expectEc2Error(() => model.associateVpcCidrBlock({ vpcId: "vpc-bad", amazonProvidedIpv6CidrBlock: true }), "InvalidVpcID.Malformed");
});

test("AssociateVpcCidrBlock with a secondary IPv4 CidrBlock: EC2's bounds, no overlap, five at most, subnets once associated", () => {
  const { model, clock, events, vpcId } = makeWorld();
  expectEc2Error(() => model.associateVpcCidrBlock({ vpcId, cidrBlock: "10.0.128.0/17" }), "InvalidVpc.Range", /overlaps/);
  expectEc2Error(() => model.associateVpcCidrBlock({ vpcId, cidrBlock: "100.64.0.0/12" }), "InvalidVpc.Range");
  expectEc2Error(() => model.associateVpcCidrBlock({ vpcId, cidrBlock: "100.64.0.1/16" }), "InvalidParameterValue");
  events.length = 0;
  const out = model.associateVpcCidrBlock({ vpcId, cidrBlock: "100.64.0.0/16" });
  assert.equal(out.cidrBlockAssociation?.state, "associating");
  assert.equal(out.cidrBlockAssociation?.cidrBlock, "100.64.0.0/16");
  expectEc2Error(() => model.createSubnet({ vpcId, cidrBlock: "100.64.0.0/24", availabilityZone: "us-east-1a" }), "InvalidSubnet.Range");
  expectEc2Error(() => model.associateVpcCidrBlock({ vpcId, cidrBlock: "100.64.128.0/17" }), "InvalidVpc.Range", /overlaps/);
  clock.advance(0);
  assert.deepEqual(model.vpc(vpcId)?.cidrBlocks, ["10.0.0.0/16", "100.64.0.0/16"]);
  assert.deepEqual(associated(events).map((e) => e.kind === "vpc-cidr-associated" && e.cidr), ["100.64.0.0/16"]);
  model.createSubnet({ vpcId, cidrBlock: "100.64.0.0/24", availabilityZone: "us-east-1a" });
  for (const cidr of ["100.65.0.0/16", "100.66.0.0/16", "100.67.0.0/16"]) model.associateVpcCidrBlock({ vpcId, cidrBlock: cidr });
  expectEc2Error(() => model.associateVpcCidrBlock({ vpcId, cidrBlock: "100.68.0.0/16" }), "CidrLimitExceeded", /maximum number of allowed CIDRs: 5/);
});

test("AssociateSubnetCidrBlock: a /64 of the VPC's /56, one per subnet, free of siblings; addresses only once associated", () => {
  const { model, clock, events, vpcId, subnetId, subnetBId } = makeWorld();
  const vpc6 = model.vpc(vpcId)!.ipv6CidrBlocks[0]!;
  const second = subnet64(vpc6, 2);
  const taken = model.subnet(subnetId)!.ipv6CidrBlock!;
  expectEc2Error(() => model.associateSubnetCidrBlock({ subnetId, ipv6CidrBlock: second }), "CidrLimitExceeded", /IPv6/);
  expectEc2Error(() => model.associateSubnetCidrBlock({ subnetId: subnetBId, ipv6CidrBlock: taken }), "InvalidSubnet.Conflict");
  expectEc2Error(() => model.associateSubnetCidrBlock({ subnetId: subnetBId, ipv6CidrBlock: second.replace("/64", "/80") }), "InvalidParameterValue", /\/64/);
  expectEc2Error(() => model.associateSubnetCidrBlock({ subnetId: subnetBId, ipv6CidrBlock: "2001:db8::/64" }), "InvalidSubnet.Range");
  expectEc2Error(() => model.associateSubnetCidrBlock({ subnetId: "subnet-0123456789abcdef0", ipv6CidrBlock: second }), "InvalidSubnetID.NotFound");

  const eni = model.createNetworkInterface({ subnetId: subnetBId });
  events.length = 0;
  const out = model.associateSubnetCidrBlock({ subnetId: subnetBId, ipv6CidrBlock: second.toUpperCase().replace("::", ":0::") });
  assert.equal(out.subnetId, subnetBId);
  assert.equal(out.ipv6CidrBlockAssociation.ipv6CidrBlock, second, "canonical form, whatever the spelling");
  assert.equal(out.ipv6CidrBlockAssociation.state, "associating");
  assert.match(out.ipv6CidrBlockAssociation.associationId, /^subnet-cidr-assoc-[0-9a-f]{17}$/);
  expectEc2Error(() => model.assignIpv6Addresses({ networkInterfaceId: eni.networkInterfaceId, ipv6AddressCount: 1 }), "InvalidParameterValue", /IPv6 CIDR/);
  expectEc2Error(() => model.associateSubnetCidrBlock({ subnetId: subnetBId, ipv6CidrBlock: subnet64(vpc6, 3) }), "CidrLimitExceeded", /IPv6/);
  clock.advance(0);
  const subnet = model.subnet(subnetBId)!;
  assert.equal(subnet.ipv6CidrBlock, second);
  assert.equal(subnet.ipv6CidrBlockAssociations[0]?.state, "associated");
  assert.deepEqual(associated(events).map((e) => e.kind), ["subnet-cidr-associated"]);
  const assigned = model.assignIpv6Addresses({ networkInterfaceId: eni.networkInterfaceId, ipv6AddressCount: 1 });
  assert.ok(assigned.assignedIpv6Addresses[0]?.startsWith(second.slice(0, -"::/64".length)));
  const page = model.describeSubnets({ filters: [{ name: "ipv6-cidr-block-association.ipv6-cidr-block", values: [second] }] });
  assert.deepEqual(page.items.map((s) => s.subnetId), [subnetBId]);
});

test("RunInstances with IPv6: addresses or prefixes on the primary ENI, EC2's rules", () => {
  const { model, subnetId, subnetBId } = makeWorld();
  const net = model.subnet(subnetId)!.ipv6CidrBlock!.slice(0, -"::/64".length);
  const counted = model.runInstance({ instanceType: "m5.large", subnetId, ipv6AddressCount: 2 });
  const eni = model.networkInterface(counted.primaryNetworkInterfaceId)!;
  assert.equal(eni.ipv6Addresses.length, 2);
  assert.ok(eni.ipv6Addresses.every((a) => a.startsWith(`${net}:`)));
  const explicit = model.runInstance({ instanceType: "m5.large", subnetId, ipv6Addresses: [`${net}::abcd`] });
  assert.deepEqual(model.networkInterface(explicit.primaryNetworkInterfaceId)?.ipv6Addresses, [`${net}::abcd`]);
  const withPrefix = model.runInstance({ instanceType: "m5.large", subnetId, ipv6PrefixCount: 1 });
  assert.match(model.networkInterface(withPrefix.primaryNetworkInterfaceId)!.ipv6Prefixes[0]!, /\/80$/);

  const before = model.subnet(subnetId)!.availableIpAddressCount;
  expectEc2Error(() => model.runInstance({ instanceType: "m5.large", subnetId, ipv6AddressCount: 1, ipv6PrefixCount: 1 }), "InvalidParameterValue", /only specify one of/);
  expectEc2Error(() => model.runInstance({ instanceType: "m5.large", subnetId, ipv6AddressCount: 1, ipv6Addresses: [`${net}::1:1`] }), "InvalidParameterCombination");
  expectEc2Error(() => model.runInstance({ instanceType: "m5.large", subnetId, ipv6Addresses: [`${net}::abcd`] }), "InvalidIPAddress.InUse");
  expectEc2Error(() => model.runInstance({ instanceType: "m5.large", subnetId: subnetBId, ipv6AddressCount: 1 }), "InvalidParameterValue", /IPv6 CIDR/);
  // t3.micro: 2 addresses per ENI, IPv6 as IPv4.
  expectEc2Error(() => model.runInstance({ instanceType: "t3.micro", subnetId, ipv6AddressCount: 3 }), "InvalidParameterValue", /IPv6/);
  // Prefixes are for Nitro instances only.
  expectEc2Error(() => model.runInstance({ instanceType: "m4.large", subnetId, ipv6PrefixCount: 1 }), "InvalidParameterValue", /Nitro/);
  model.runInstance({ instanceType: "m4.large", subnetId, ipv6AddressCount: 1 });
  model.runInstance({ instanceType: "m5.metal", subnetId, ipv6PrefixCount: 1 });
  assert.equal(model.subnet(subnetId)!.availableIpAddressCount, before - 2, "failed launches took nothing");
});

test("IPv6 prefixes only on ENIs of Nitro instances; CreateNetworkInterface takes explicit /80s", () => {
  const { model, clock, subnetId } = makeWorld();
  const net = model.subnet(subnetId)!.ipv6CidrBlock!.slice(0, -"::/64".length);
  const xen = model.runInstance({ instanceType: "m4.large", subnetId });
  expectEc2Error(() => model.assignIpv6Addresses({ networkInterfaceId: xen.primaryNetworkInterfaceId, ipv6PrefixCount: 1 }), "InvalidParameterValue", /Nitro/);
  model.assignIpv6Addresses({ networkInterfaceId: xen.primaryNetworkInterfaceId, ipv6AddressCount: 1 });

  const withPrefix = model.createNetworkInterface({ subnetId, ipv6Prefixes: [`${net}:9::/80`] });
  assert.deepEqual(withPrefix.ipv6Prefixes, [`${net}:9::/80`]);
  expectEc2Error(() => model.createNetworkInterface({ subnetId, ipv6Prefixes: [`${net}:9::/80`] }), "InvalidParameterValue", /in use/);
  expectEc2Error(() => model.createNetworkInterface({ subnetId, ipv6Prefixes: [`${net}:9::/64`] }), "InvalidParameterValue", /\/80/);
  expectEc2Error(
    () => model.attachNetworkInterface({ networkInterfaceId: withPrefix.networkInterfaceId, instanceId: xen.instanceId, deviceIndex: 1 }),
    "InvalidParameterValue",
    /Nitro/,
  );
  assert.equal(model.networkInterface(withPrefix.networkInterfaceId)?.status, "available", "a refused attach changes nothing");
  const nitro = model.runInstance({ instanceType: "m5.large", subnetId });
  model.attachNetworkInterface({ networkInterfaceId: withPrefix.networkInterfaceId, instanceId: nitro.instanceId, deviceIndex: 1 });
  clock.advance(1000);
  assert.equal(model.networkInterface(withPrefix.networkInterfaceId)?.attachment?.status, "attached");
});
