// VPCs and subnets: their CIDR blocks with EC2's bounds and overlap rules, the Amazon-provided IPv6
// /56 of a dual-stack VPC, subnet address accounting (AvailableIpAddressCount) and their Describe*.

import type { DescribeInput, SubnetView } from "./api.ts";
import { Ec2Error, type PageOf, type Subnet, type Tag, type Vpc } from "./types.ts";
import { invalidParameterValue, notFound } from "./errors.ts";
import { cidrContainsCidr, cidrsOverlap, formatCidr4, parseCidr4, type Cidr4 } from "../ipv4.ts";
import { cidr6ContainsCidr, cidrs6Overlap, formatCidr6, parseCidr6, type Cidr6 } from "./ipv6.ts";
import { randomHex } from "./ids.ts";
import { SubnetPool } from "./subnet-pool.ts";
import { PAGING, subnetFilters, vpcFilters } from "./describe-specs.ts";
import { filterAndPage, selectByIds } from "./describe.ts";
import { checkNewTags } from "./tags.ts";
import { availabilityZoneId } from "./zones.ts";
import { addDefaultGroup } from "./security-groups.ts";
import type { ModelState, SubnetRecord } from "./model-state.ts";

export function createVpc(s: ModelState, input: { cidrBlock: string; cidrBlocks?: string[]; ipv6?: boolean; tags?: Tag[] }): Vpc {
  const texts = [input.cidrBlock, ...(input.cidrBlocks ?? []).filter((c) => c !== input.cidrBlock)];
  const cidrs = texts.map((text) => parseVpcCidr(text));
  cidrs.forEach((cidr, i) => {
    if (cidrs.slice(0, i).some((other) => cidrsOverlap(cidr, other))) {
      throw new Ec2Error("InvalidVpc.Range", `The CIDR '${formatCidr4(cidr)}' overlaps another CIDR of the VPC.`);
    }
  });
  const tags = input.tags ?? [];
  checkNewTags(tags);
  const cidr6 = input.ipv6 ? newVpcIpv6Cidr(s) : undefined;

  const vpcId = s.ids.next("vpc");
  const vpc: Vpc = {
    vpcId,
    ownerId: s.accountId,
    cidrBlock: formatCidr4(cidrs[0] as Cidr4),
    cidrBlocks: cidrs.map(formatCidr4),
    ...(cidr6 ? { ipv6CidrBlock: formatCidr6(cidr6) } : {}),
    tags: tags.map((t) => ({ ...t })),
  };
  const defaultGroupId = s.ids.next("sg");
  s.vpcs.set(vpcId, { seq: s.nextSeq(), vpc, cidrs, cidr6, defaultGroupId });
  addDefaultGroup(s, vpcId, defaultGroupId);
  return structuredClone(vpc);
}

export function createSubnet(
  s: ModelState,
  input: { vpcId: string; cidrBlock: string; availabilityZone: string; ipv6CidrBlock?: string; tags?: Tag[] },
): Subnet {
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
  let cidr6: Cidr6 | undefined;
  if (input.ipv6CidrBlock !== undefined) {
    cidr6 = parseCidr6(input.ipv6CidrBlock);
    if (!cidr6 || cidr6.prefixLength !== 64) {
      throw invalidParameterValue(`Value (${input.ipv6CidrBlock}) for parameter ipv6CidrBlock is invalid. Expecting a /64.`);
    }
    if (!vpcRecord.cidr6 || !cidr6ContainsCidr(vpcRecord.cidr6, cidr6)) {
      throw new Ec2Error("InvalidSubnet.Range", `The IPv6 CIDR '${input.ipv6CidrBlock}' is not within the VPC's IPv6 CIDR.`);
    }
    const taken = cidr6;
    if (siblings.some((r) => r.pool.cidr6 && cidrs6Overlap(r.pool.cidr6, taken))) {
      throw new Ec2Error("InvalidSubnet.Conflict", `The CIDR '${input.ipv6CidrBlock}' conflicts with another subnet`);
    }
  }
  const zoneId = availabilityZoneId(s.region, input.availabilityZone);
  const tags = input.tags ?? [];
  checkNewTags(tags);

  const subnet: Subnet = {
    subnetId: s.ids.next("subnet"),
    vpcId: input.vpcId,
    ownerId: s.accountId,
    availabilityZone: input.availabilityZone,
    availabilityZoneId: zoneId,
    cidrBlock: formatCidr4(cidr),
    ...(cidr6 ? { ipv6CidrBlock: formatCidr6(cidr6) } : {}),
    tags: tags.map((t) => ({ ...t })),
  };
  s.subnets.set(subnet.subnetId, {
    seq: s.nextSeq(),
    subnet,
    pool: new SubnetPool(cidr, cidr6, s.random),
  });
  return structuredClone(subnet);
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

/** A fresh /56 for a dual-stack VPC, from Amazon's 2600:1f00::/24 style pool. */
function newVpcIpv6Cidr(s: ModelState): Cidr6 {
  for (;;) {
    const text = `2600:1f18:${randomHex(s.random, 4)}:${randomHex(s.random, 2)}00::/56`;
    const cidr = parseCidr6(text) as Cidr6;
    if (![...s.vpcs.values()].some((v) => v.cidr6 && cidrs6Overlap(v.cidr6, cidr))) return cidr;
  }
}

/** A VPC CIDR: well formed, between /16 and /28 (EC2's bounds). */
function parseVpcCidr(text: string): Cidr4 {
  const cidr = parseCidr4(text);
  if (!cidr) throw invalidParameterValue(`Value (${text}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`);
  if (cidr.prefixLength < 16 || cidr.prefixLength > 28) throw new Ec2Error("InvalidVpc.Range", `The CIDR '${text}' is invalid.`);
  return cidr;
}
