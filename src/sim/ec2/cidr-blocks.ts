// The CIDR blocks of VPCs and subnets: EC2's bounds and overlap rules, the Amazon-provided IPv6 /56
// (one per network border group, which is the Region here), each subnet's /64 inside it, and the
// associations AssociateVpcCidrBlock and AssociateSubnetCidrBlock make: EC2 answers "associating"
// and the block becomes "associated" (usable, routed, shown in IMDS) a moment later, on the clock.
// DisassociateVpcCidrBlock takes a secondary block away the same way ("disassociating", then
// "disassociated": no longer routed nor shown), refused while a subnet is in it. Which ranges a VPC
// may add is in vpc-cidr-ranges.ts.

import type { AssociateSubnetCidrBlockInput, AssociateVpcCidrBlockInput, SubnetCidrBlockResult, VpcCidrBlockResult } from "./api.ts";
import { checkSecondaryVpcCidr } from "./vpc-cidr-ranges.ts";
import {
  Ec2Error,
  type SubnetIpv6CidrBlockAssociation,
  type VpcCidrBlockAssociation,
  type VpcIpv6CidrBlockAssociation,
} from "./types.ts";
import { invalidParameterCombination, invalidParameterValue, missingParameter } from "./errors.ts";
import { cidrsOverlap, formatCidr4, parseCidr4, type Cidr4 } from "../ipv4.ts";
import { cidr6ContainsCidr, cidrs6Overlap, formatCidr6, parseCidr6, type Cidr6 } from "../ipv6.ts";
import { derivedId, randomHex } from "./ids.ts";
import type { ModelState, SubnetRecord, VpcRecord } from "./model-state.ts";

/** EC2's default quota of IPv4 CIDR blocks per VPC (the primary included). */
const MAX_IPV4_CIDRS_PER_VPC = 5;
/** Amazon-provided IPv6 blocks per network border group; a vpcsim world has one group, its Region. */
const MAX_AMAZON_IPV6_CIDRS = 1;
const SUBNET_IPV6_PREFIX_LENGTH = 64;
const LIVE_STATES = new Set(["associating", "associated"]);

/** A VPC CIDR: well formed, between /16 and /28 (EC2's bounds). */
export function parseVpcCidr(text: string): Cidr4 {
  const cidr = parseCidr4(text);
  if (!cidr) throw invalidParameterValue(`Value (${text}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`);
  if (cidr.prefixLength < 16 || cidr.prefixLength > 28) throw new Ec2Error("InvalidVpc.Range", `The CIDR '${text}' is invalid.`);
  return cidr;
}

/** A fresh /56 from an Amazon-like pool (2600:1f18::/32), clear of every VPC's. */
export function newAmazonIpv6Cidr(s: ModelState): Cidr6 {
  for (;;) {
    const text = `2600:1f18:${randomHex(s.random, 4)}:${randomHex(s.random, 2)}00::/56`;
    const cidr = parseCidr6(text) as Cidr6;
    const taken = [...s.vpcs.values()].some((v) =>
      v.vpc.ipv6CidrBlockAssociations.some((a) => LIVE_STATES.has(a.state) && cidrs6Overlap(parseCidr6(a.ipv6CidrBlock) as Cidr6, cidr)),
    );
    if (!taken) return cidr;
  }
}

export function ipv4Association(vpcId: string, cidr: Cidr4, state: "associating" | "associated"): VpcCidrBlockAssociation {
  const cidrBlock = formatCidr4(cidr);
  return { associationId: derivedId("vpc-cidr-assoc-", vpcId, cidrBlock), cidrBlock, state };
}

export function amazonIpv6Association(s: ModelState, vpcId: string, cidr: Cidr6, state: "associating" | "associated"): VpcIpv6CidrBlockAssociation {
  const ipv6CidrBlock = formatCidr6(cidr);
  return {
    associationId: derivedId("vpc-cidr-assoc-", vpcId, ipv6CidrBlock),
    ipv6CidrBlock,
    state,
    networkBorderGroup: s.region,
    ipv6Pool: "Amazon",
  };
}

export function subnetIpv6Association(subnetId: string, cidr: Cidr6, state: "associating" | "associated"): SubnetIpv6CidrBlockAssociation {
  const ipv6CidrBlock = formatCidr6(cidr);
  return { associationId: derivedId("subnet-cidr-assoc-", subnetId, ipv6CidrBlock), ipv6CidrBlock, state };
}

/**
 * A subnet's IPv6 block: a /64 inside one of the VPC's associated /56s, clear of its other subnets'.
 * `except` is the subnet itself, when it is the one asking.
 */
export function checkSubnetIpv6Cidr(s: ModelState, vpcRecord: VpcRecord, text: string, except?: string): Cidr6 {
  const cidr6 = parseCidr6(text);
  if (!cidr6 || cidr6.prefixLength !== SUBNET_IPV6_PREFIX_LENGTH) {
    throw invalidParameterValue(`Value (${text}) for parameter ipv6CidrBlock is invalid. Expecting a /64.`);
  }
  if (!vpcRecord.cidrs6.some((vpc6) => cidr6ContainsCidr(vpc6, cidr6))) {
    throw new Ec2Error("InvalidSubnet.Range", `The IPv6 CIDR '${text}' is not within the VPC's IPv6 CIDR.`);
  }
  for (const r of s.subnets.values()) {
    if (r.subnet.vpcId !== vpcRecord.vpc.vpcId || r.subnet.subnetId === except) continue;
    const others = r.subnet.ipv6CidrBlockAssociations.filter((a) => LIVE_STATES.has(a.state));
    if (others.some((a) => cidrs6Overlap(parseCidr6(a.ipv6CidrBlock) as Cidr6, cidr6))) {
      throw new Ec2Error("InvalidSubnet.Conflict", `The CIDR '${text}' conflicts with another subnet`);
    }
  }
  return cidr6;
}

export function associateVpcCidrBlock(s: ModelState, input: AssociateVpcCidrBlockInput): VpcCidrBlockResult {
  const record = s.vpcRecord(input.vpcId);
  const { vpc } = record;
  const asked = [input.cidrBlock !== undefined, input.amazonProvidedIpv6CidrBlock === true, input.ipv6Pool !== undefined].filter(Boolean).length;
  if (asked === 0) throw missingParameter("Either cidrBlock, amazonProvidedIpv6CidrBlock or ipv6Pool must be specified.");
  if (asked > 1) throw invalidParameterCombination("Only one of cidrBlock, amazonProvidedIpv6CidrBlock and ipv6Pool may be specified.");
  if (input.ipv6Pool !== undefined) {
    throw invalidParameterValue(`The IPv6 pool '${input.ipv6Pool}' does not exist (vpcsim has no BYOIP pools; ask for amazonProvidedIpv6CidrBlock).`);
  }
  const borderGroup = input.ipv6CidrBlockNetworkBorderGroup;
  if (borderGroup !== undefined && input.amazonProvidedIpv6CidrBlock !== true) {
    throw invalidParameterCombination("ipv6CidrBlockNetworkBorderGroup requires amazonProvidedIpv6CidrBlock.");
  }
  if (borderGroup !== undefined && borderGroup !== s.region) {
    throw invalidParameterValue(`The network border group '${borderGroup}' is not valid for this VPC (its Region is ${s.region}).`);
  }

  if (input.cidrBlock !== undefined) {
    const cidr = parseVpcCidr(input.cidrBlock);
    checkSecondaryVpcCidr(record.cidrs[0] as Cidr4, cidr);
    const live = vpc.cidrBlockAssociations.filter((a) => LIVE_STATES.has(a.state));
    if (live.length >= MAX_IPV4_CIDRS_PER_VPC) {
      throw new Ec2Error("CidrLimitExceeded", `This network '${vpc.vpcId}' has met its maximum number of allowed CIDRs: ${MAX_IPV4_CIDRS_PER_VPC}`);
    }
    const clash = live.find((a) => cidrsOverlap(parseCidr4(a.cidrBlock) as Cidr4, cidr));
    if (clash) throw new Ec2Error("InvalidVpc.Range", `The CIDR '${input.cidrBlock}' overlaps the VPC's CIDR '${clash.cidrBlock}'.`);
    const association = ipv4Association(vpc.vpcId, cidr, "associating");
    vpc.cidrBlockAssociations.push(association);
    s.clock.after(s.timings.cidrAssociationMs ?? 0, () => completeVpcAssociation(s, vpc.vpcId, association.associationId));
    return { vpcId: vpc.vpcId, cidrBlockAssociation: structuredClone(association) };
  }

  const live6 = vpc.ipv6CidrBlockAssociations.filter((a) => LIVE_STATES.has(a.state) && a.ipv6Pool === "Amazon");
  if (live6.length >= MAX_AMAZON_IPV6_CIDRS) {
    throw new Ec2Error(
      "CidrLimitExceeded",
      `This network '${vpc.vpcId}' has met its maximum number of allowed Amazon-provided IPv6 CIDRs in network border group '${s.region}': ${MAX_AMAZON_IPV6_CIDRS}`,
    );
  }
  const association = amazonIpv6Association(s, vpc.vpcId, newAmazonIpv6Cidr(s), "associating");
  vpc.ipv6CidrBlockAssociations.push(association);
  s.clock.after(s.timings.cidrAssociationMs ?? 0, () => completeVpcAssociation(s, vpc.vpcId, association.associationId));
  return { vpcId: vpc.vpcId, ipv6CidrBlockAssociation: structuredClone(association) };
}

export function associateSubnetCidrBlock(s: ModelState, input: AssociateSubnetCidrBlockInput): SubnetCidrBlockResult {
  const record = s.subnetRecord(input.subnetId);
  const { subnet } = record;
  if (subnet.ipv6CidrBlockAssociations.some((a) => LIVE_STATES.has(a.state))) {
    throw new Ec2Error("CidrLimitExceeded", `This subnet '${subnet.subnetId}' has met its maximum number of allowed IPv6 CIDRs: 1`);
  }
  const cidr6 = checkSubnetIpv6Cidr(s, s.vpcRecord(subnet.vpcId), input.ipv6CidrBlock, subnet.subnetId);
  const association = subnetIpv6Association(subnet.subnetId, cidr6, "associating");
  subnet.ipv6CidrBlockAssociations.push(association);
  s.clock.after(s.timings.cidrAssociationMs ?? 0, () => completeSubnetAssociation(s, record, association.associationId, cidr6));
  return { subnetId: subnet.subnetId, ipv6CidrBlockAssociation: structuredClone(association) };
}

export function disassociateVpcCidrBlock(s: ModelState, input: { associationId: string }): VpcCidrBlockResult {
  for (const record of s.vpcs.values()) {
    const { vpc } = record;
    const v4 = vpc.cidrBlockAssociations.find((a) => a.associationId === input.associationId && LIVE_STATES.has(a.state));
    const v6 = vpc.ipv6CidrBlockAssociations.find((a) => a.associationId === input.associationId && LIVE_STATES.has(a.state));
    const association = v4 ?? v6;
    if (association === undefined) continue;
    const text = v4 ? v4.cidrBlock : (v6 as VpcIpv6CidrBlockAssociation).ipv6CidrBlock;
    if (v4 && v4.cidrBlock === vpc.cidrBlock) {
      throw new Ec2Error(
        "OperationNotPermitted",
        `The vpc CIDR block with association ID ${input.associationId} may not be disassociated. It is the primary IPv4 CIDR block of the VPC`,
      );
    }
    const inUse = [...s.subnets.values()].some((r) => {
      if (r.subnet.vpcId !== vpc.vpcId) return false;
      if (v4) return cidrsOverlap(r.pool.cidr, parseCidr4(text) as Cidr4);
      return r.subnet.ipv6CidrBlockAssociations.some((a) => LIVE_STATES.has(a.state) && cidrs6Overlap(parseCidr6(a.ipv6CidrBlock) as Cidr6, parseCidr6(text) as Cidr6));
    });
    if (inUse) throw new Ec2Error("InvalidCidrBlock.InUse", `The vpc ${vpc.vpcId} currently has a subnet within CIDR block ${text}`);
    association.state = "disassociating";
    s.clock.after(s.timings.cidrAssociationMs ?? 0, () => completeVpcDisassociation(s, vpc.vpcId, input.associationId));
    return v4 ? { vpcId: vpc.vpcId, cidrBlockAssociation: structuredClone(v4) } : { vpcId: vpc.vpcId, ipv6CidrBlockAssociation: structuredClone(v6!) };
  }
  throw new Ec2Error("InvalidVpcCidrBlockAssociationID.NotFound", `The vpc CIDR block association ID '${input.associationId}' does not exist`);
}

function completeVpcDisassociation(s: ModelState, vpcId: string, associationId: string): void {
  const record = s.vpcs.get(vpcId);
  if (!record) return;
  const { vpc } = record;
  const v4 = vpc.cidrBlockAssociations.find((a) => a.associationId === associationId && a.state === "disassociating");
  const v6 = vpc.ipv6CidrBlockAssociations.find((a) => a.associationId === associationId && a.state === "disassociating");
  if (v4) {
    v4.state = "disassociated";
    record.cidrs = record.cidrs.filter((c) => formatCidr4(c) !== v4.cidrBlock);
    vpc.cidrBlocks = vpc.cidrBlocks.filter((c) => c !== v4.cidrBlock);
    s.emit({ kind: "vpc-cidr-disassociated", vpc: structuredClone(vpc), cidr: v4.cidrBlock });
  } else if (v6) {
    v6.state = "disassociated";
    record.cidrs6 = record.cidrs6.filter((c) => formatCidr6(c) !== v6.ipv6CidrBlock);
    vpc.ipv6CidrBlocks = vpc.ipv6CidrBlocks.filter((c) => c !== v6.ipv6CidrBlock);
    s.emit({ kind: "vpc-cidr-disassociated", vpc: structuredClone(vpc), cidr: v6.ipv6CidrBlock });
  }
}

function completeVpcAssociation(s: ModelState, vpcId: string, associationId: string): void {
  const record = s.vpcs.get(vpcId);
  if (!record) return;
  const { vpc } = record;
  const v4 = vpc.cidrBlockAssociations.find((a) => a.associationId === associationId && a.state === "associating");
  if (v4) {
    v4.state = "associated";
    record.cidrs.push(parseCidr4(v4.cidrBlock) as Cidr4);
    vpc.cidrBlocks.push(v4.cidrBlock);
    s.emit({ kind: "vpc-cidr-associated", vpc: structuredClone(vpc), cidr: v4.cidrBlock });
    return;
  }
  const v6 = vpc.ipv6CidrBlockAssociations.find((a) => a.associationId === associationId && a.state === "associating");
  if (v6) {
    v6.state = "associated";
    record.cidrs6.push(parseCidr6(v6.ipv6CidrBlock) as Cidr6);
    vpc.ipv6CidrBlocks.push(v6.ipv6CidrBlock);
    s.emit({ kind: "vpc-cidr-associated", vpc: structuredClone(vpc), cidr: v6.ipv6CidrBlock });
  }
}

function completeSubnetAssociation(s: ModelState, record: SubnetRecord, associationId: string, cidr6: Cidr6): void {
  const association = record.subnet.ipv6CidrBlockAssociations.find((a) => a.associationId === associationId && a.state === "associating");
  if (!association) return;
  association.state = "associated";
  record.subnet.ipv6CidrBlock = association.ipv6CidrBlock;
  record.pool.associateCidr6(cidr6);
  s.emit({ kind: "subnet-cidr-associated", subnet: structuredClone(record.subnet), ipv6Cidr: association.ipv6CidrBlock });
}
