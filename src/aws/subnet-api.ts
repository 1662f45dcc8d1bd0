// The subnet and security-group reads that decide where a new ENI goes (reference §4.3): one subnet
// by id (custom networking's ENIConfig subnet), the subnets of the VPC in the node's zone (subnet
// discovery, the reference's GetVpcSubnets with its vpc-id and availability-zone filters, most free
// addresses first), and the VPC's security groups carrying a tag key (the ones tagged for pods).

import { DescribeSecurityGroupsCommand, DescribeSubnetsCommand, type Subnet } from "@aws-sdk/client-ec2";
import { ec2Call, type Ec2 } from "./ec2-client.ts";
import { asAwsError, errorCode, isNotFound } from "./errors.ts";
import { fromSdkTags } from "./eni-tags.ts";

export interface SubnetInfo {
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  cidrBlock: string;
  availableIpAddressCount: number;
  tags: Record<string, string>;
}

export interface SecurityGroupInfo {
  groupId: string;
  vpcId: string;
  tags: Record<string, string>;
}

function toSubnet(s: Subnet): SubnetInfo {
  return {
    subnetId: s.SubnetId ?? "",
    vpcId: s.VpcId ?? "",
    availabilityZone: s.AvailabilityZone ?? "",
    cidrBlock: s.CidrBlock ?? "",
    availableIpAddressCount: s.AvailableIpAddressCount ?? 0,
    tags: fromSdkTags(s.Tags),
  };
}

/** One subnet, or undefined when EC2 does not know it (deleted, or a wrong id). */
export async function describeSubnet(ec2: Ec2, subnetId: string, fn = "describeSubnet"): Promise<SubnetInfo | undefined> {
  try {
    const out = await ec2Call(ec2, fn, new DescribeSubnetsCommand({ SubnetIds: [subnetId] }));
    const s = out.Subnets?.[0];
    return s === undefined ? undefined : toSubnet(s);
  } catch (err) {
    const code = errorCode(err);
    if (isNotFound(code) || code === "InvalidSubnetID.Malformed") return undefined;
    throw asAwsError(err, fn, "DescribeSubnets");
  }
}

/** The VPC's subnets in one zone, most free addresses first (the reference's GetVpcSubnets). */
export async function describeZoneSubnets(ec2: Ec2, vpcId: string, availabilityZone: string): Promise<SubnetInfo[]> {
  const out = await ec2Call(
    ec2,
    "GetVpcSubnets",
    new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }, { Name: "availability-zone", Values: [availabilityZone] }] }),
  );
  return (out.Subnets ?? []).map(toSubnet).sort((a, b) => b.availableIpAddressCount - a.availableIpAddressCount);
}

/** The VPC's security groups that carry `tagKey` (whatever its value). */
export async function describeTaggedSecurityGroups(ec2: Ec2, vpcId: string, tagKey: string): Promise<SecurityGroupInfo[]> {
  const out = await ec2Call(
    ec2,
    "getTaggedSecurityGroups",
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }, { Name: "tag-key", Values: [tagKey] }] }),
  );
  return (out.SecurityGroups ?? []).map((g) => ({ groupId: g.GroupId ?? "", vpcId: g.VpcId ?? "", tags: fromSdkTags(g.Tags) }));
}
