// VPCs and subnets: creation (a VPC with its default security group and the CIDR blocks it starts
// with, a subnet in one zone with its IPv4 block and optionally a /64), subnet address accounting
// (AvailableIpAddressCount), DeleteSubnet and their Describe*. The CIDR blocks' own rules are in cidr-blocks.ts.

import type { CreateSubnetInput, DescribeInput, SubnetView } from "./api.ts";
import { Ec2Error, type PageOf, type Subnet, type Tag, type Vpc } from "./types.ts";
import { invalidParameterValue, notFound } from "./errors.ts";
import { cidrContainsCidr, cidrsOverlap, formatCidr4, parseCidr4, type Cidr4 } from "../ipv4.ts";
import { formatCidr6 } from "../ipv6.ts";
import { amazonIpv6Association, checkSubnetIpv6Cidr, ipv4Association, newAmazonIpv6Cidr, parseVpcCidr, subnetIpv6Association } from "./cidr-blocks.ts";
import { SubnetPool } from "./subnet-pool.ts";
import { checkSecondaryVpcCidr, checkUsableVpcCidr } from "./vpc-cidr-ranges.ts";
import { PAGING, subnetFilters, vpcFilters } from "./describe-specs.ts";
import { filterAndPage, selectByIds } from "./describe.ts";
import { checkNewTags } from "./tags.ts";
import { availabilityZoneId } from "./zones.ts";
import { addDefaultGroup } from "./security-groups.ts";
import type { ModelState, SubnetRecord } from "./model-state.ts";

export function createVpc(s: ModelState, input: { cidrBlock: string; cidrBlocks?: string[]; ipv6?: boolean; tags?: Tag[] }): Vpc {
  const texts = [input.cidrBlock, ...(input.cidrBlocks ?? []).filter((c) => c !== input.cidrBlock)];
  const cidrs = texts.map((text) => parseVpcCidr(text));
  checkUsableVpcCidr(cidrs[0] as Cidr4);
  for (const secondary of cidrs.slice(1)) checkSecondaryVpcCidr(cidrs[0] as Cidr4, secondary);
  cidrs.forEach((cidr, i) => {
    if (cidrs.slice(0, i).some((other) => cidrsOverlap(cidr, other))) {
      throw new Ec2Error("InvalidVpc.Range", `The CIDR '${formatCidr4(cidr)}' overlaps another CIDR of the VPC.`);
    }
  });
  const tags = input.tags ?? [];
  checkNewTags(tags);
  const cidr6 = input.ipv6 ? newAmazonIpv6Cidr(s) : undefined;

  // What the VPC is created with is associated at once; later associations take their time.
  const vpcId = s.ids.next("vpc");
  const vpc: Vpc = {
    vpcId,
    ownerId: s.accountId,
    cidrBlock: formatCidr4(cidrs[0] as Cidr4),
    cidrBlocks: cidrs.map(formatCidr4),
    ipv6CidrBlocks: cidr6 ? [formatCidr6(cidr6)] : [],
    cidrBlockAssociations: cidrs.map((cidr) => ipv4Association(vpcId, cidr, "associated")),
    ipv6CidrBlockAssociations: cidr6 ? [amazonIpv6Association(s, vpcId, cidr6, "associated")] : [],
    tags: tags.map((t) => ({ ...t })),
  };
  const defaultGroupId = s.ids.next("sg");
  s.vpcs.set(vpcId, { seq: s.nextSeq(), vpc, cidrs, cidrs6: cidr6 ? [cidr6] : [], defaultGroupId });
  addDefaultGroup(s, vpcId, defaultGroupId);
  for (const cidr of [...vpc.cidrBlocks, ...vpc.ipv6CidrBlocks]) s.emit({ kind: "vpc-cidr-associated", vpc: structuredClone(vpc), cidr });
  return structuredClone(vpc);
}

export function createSubnet(s: ModelState, input: CreateSubnetInput): Subnet {
  const vpcRecord = s.vpcRecord(input.vpcId);
  const cidr = parseCidr4(input.cidrBlock);
  if (!cidr) throw invalidParameterValue(`Value (${input.cidrBlock}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`);
  if (cidr.prefixLength < 16 || cidr.prefixLength > 28) {
    throw new Ec2Error("InvalidSubnet.Range", `The CIDR '${input.cidrBlock}' is invalid.`);
  }
  if (!vpcRecord.cidrs.some((vpcCidr) => cidrContainsCidr(vpcCidr, cidr))) {
    throw new Ec2Error("InvalidSubnet.Range", `The CIDR '${input.cidrBlock}' is invalid.`);
  }
  const siblings = [...s.subnets.values()].filter((r) => r.subnet.vpcId === input.vpcId);
  if (siblings.some((r) => cidrsOverlap(r.pool.cidr, cidr))) {
    throw new Ec2Error("InvalidSubnet.Conflict", `The CIDR '${input.cidrBlock}' conflicts with another subnet`);
  }
  const cidr6 = input.ipv6CidrBlock === undefined ? undefined : checkSubnetIpv6Cidr(s, vpcRecord, input.ipv6CidrBlock);
  const zoneId = availabilityZoneId(s.region, input.availabilityZone);
  const tags = input.tags ?? [];
  checkNewTags(tags);

  const subnetId = s.ids.next("subnet");
  const subnet: Subnet = {
    subnetId,
    vpcId: input.vpcId,
    ownerId: s.accountId,
    availabilityZone: input.availabilityZone,
    availabilityZoneId: zoneId,
    cidrBlock: formatCidr4(cidr),
    ...(cidr6 ? { ipv6CidrBlock: formatCidr6(cidr6) } : {}),
    ipv6CidrBlockAssociations: cidr6 ? [subnetIpv6Association(subnetId, cidr6, "associated")] : [],
    tags: tags.map((t) => ({ ...t })),
  };
  s.subnets.set(subnet.subnetId, {
    seq: s.nextSeq(),
    subnet,
    pool: new SubnetPool(cidr, cidr6, s.random),
  });
  return structuredClone(subnet);
}

/** DeleteSubnet: refused while any network interface is in it (EC2's DependencyViolation). */
export function deleteSubnet(s: ModelState, input: { subnetId: string }): void {
  const record = s.subnetRecord(input.subnetId);
  if ([...s.enis.values()].some((r) => r.eni.subnetId === input.subnetId)) {
    throw new Ec2Error("DependencyViolation", `The subnet '${input.subnetId}' has dependencies and cannot be deleted.`);
  }
  s.subnets.delete(input.subnetId);
  s.emit({ kind: "subnet-deleted", subnet: structuredClone(record.subnet) });
}

/** Fault injection: hide `count` free addresses of a subnet, as if other tenants took them (0 lifts it). */
export function setSubnetReservation(s: ModelState, subnetId: string, count: number): void {
  const record = s.subnetRecord(subnetId);
  if (!Number.isInteger(count) || count < 0) throw invalidParameterValue(`Invalid reservation count ${count}`);
  record.pool.reservation = count;
}

export function describeVpcs(s: ModelState, input: DescribeInput): PageOf<Vpc> {
  const records = selectByIds(input, PAGING.vpcs, "vpc", s.vpcs, (ids) => notFound("vpc", ids[0] as string));
  return filterAndPage(records, (r) => r.vpc, input, vpcFilters, PAGING.vpcs);
}

export function describeSubnets(s: ModelState, input: DescribeInput): PageOf<SubnetView> {
  const records = selectByIds(input, PAGING.subnets, "subnet", s.subnets, (ids) => notFound("subnet", ids[0] as string));
  const views = records.map((r) => ({ seq: r.seq, view: subnetView(r) }));
  return filterAndPage(views, (r) => r.view, input, subnetFilters, PAGING.subnets);
}

export function subnetView(record: SubnetRecord): SubnetView {
  return { ...structuredClone(record.subnet), availableIpAddressCount: record.pool.available };
}
