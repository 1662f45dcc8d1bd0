// Which Describe* filters each resource kind supports and what each one compares against, and the
// paging bounds of each Describe* action. Filter names are EC2's.

import type { Instance, InstanceTypeInfo, NetworkInterface, SecurityGroup, Vpc } from "./types.ts";
import type { SubnetView } from "./api.ts";
import { one, type FilterSpec } from "./filters.ts";
import type { PagingRules } from "./paging.ts";

export const networkInterfaceFilters: FilterSpec<NetworkInterface> = {
  tags: (eni) => eni.tags,
  fields: {
    "network-interface-id": (eni) => one(eni.networkInterfaceId),
    "vpc-id": (eni) => one(eni.vpcId),
    "subnet-id": (eni) => one(eni.subnetId),
    "availability-zone": (eni) => one(eni.availabilityZone),
    "owner-id": (eni) => one(eni.ownerId),
    status: (eni) => one(eni.status),
    description: (eni) => one(eni.description),
    "interface-type": (eni) => one(eni.interfaceType),
    "mac-address": (eni) => one(eni.macAddress),
    "source-dest-check": (eni) => one(eni.sourceDestCheck),
    "requester-managed": (eni) => one(eni.requesterManaged),
    "group-id": (eni) => eni.groupIds,
    "private-ip-address": (eni) => eni.privateIps.map((p) => p.address),
    "addresses.private-ip-address": (eni) => eni.privateIps.map((p) => p.address),
    "ipv6-addresses.ipv6-address": (eni) => eni.ipv6Addresses,
    "attachment.attachment-id": (eni) => one(eni.attachment?.attachmentId),
    "attachment.instance-id": (eni) => one(eni.attachment?.instanceId),
    "attachment.instance-owner-id": (eni) => one(eni.attachment?.instanceOwnerId),
    "attachment.status": (eni) => one(eni.attachment?.status),
    "attachment.device-index": (eni) => one(eni.attachment?.deviceIndex),
    "attachment.delete-on-termination": (eni) => one(eni.attachment?.deleteOnTermination),
  },
};

/** Instance filters need the instance's ENIs (addresses, interface ids). */
export function instanceFilters(enisOf: (instance: Instance) => NetworkInterface[]): FilterSpec<Instance> {
  const primaryAddress = (instance: Instance): string | undefined =>
    enisOf(instance).find((e) => e.networkInterfaceId === instance.primaryNetworkInterfaceId)?.privateIps[0]?.address;
  return {
    tags: (i) => i.tags,
    fields: {
      "instance-id": (i) => one(i.instanceId),
      "instance-type": (i) => one(i.instanceType),
      "instance-state-name": (i) => one(i.state),
      "image-id": (i) => one(i.imageId),
      "owner-id": (i) => one(i.ownerId),
      "vpc-id": (i) => one(i.vpcId),
      "subnet-id": (i) => one(i.subnetId),
      "availability-zone": (i) => one(i.availabilityZone),
      "ip-address": (i) => one(i.publicIpAddress),
      "private-ip-address": (i) => one(primaryAddress(i)),
      "network-interface.network-interface-id": (i) => enisOf(i).map((e) => e.networkInterfaceId),
      "network-interface.subnet-id": (i) => enisOf(i).map((e) => e.subnetId),
      "network-interface.addresses.private-ip-address": (i) =>
        enisOf(i).flatMap((e) => e.privateIps.map((p) => p.address)),
    },
  };
}

export const subnetFilters: FilterSpec<SubnetView> = {
  tags: (s) => s.tags,
  fields: {
    "subnet-id": (s) => one(s.subnetId),
    "vpc-id": (s) => one(s.vpcId),
    "owner-id": (s) => one(s.ownerId),
    "availability-zone": (s) => one(s.availabilityZone),
    "availability-zone-id": (s) => one(s.availabilityZoneId),
    "cidr-block": (s) => one(s.cidrBlock),
    "ipv6-cidr-block-association.ipv6-cidr-block": (s) => s.ipv6CidrBlockAssociations.map((a) => a.ipv6CidrBlock),
    "ipv6-cidr-block-association.association-id": (s) => s.ipv6CidrBlockAssociations.map((a) => a.associationId),
    "ipv6-cidr-block-association.state": (s) => s.ipv6CidrBlockAssociations.map((a) => a.state),
    "available-ip-address-count": (s) => one(s.availableIpAddressCount),
    "default-for-az": () => one(false), // vpcsim has no default VPC, so no default subnets
    state: () => one("available"),
  },
};

export const vpcFilters: FilterSpec<Vpc> = {
  tags: (v) => v.tags,
  fields: {
    "vpc-id": (v) => one(v.vpcId),
    "owner-id": (v) => one(v.ownerId),
    cidr: (v) => one(v.cidrBlock),
    "cidr-block-association.cidr-block": (v) => v.cidrBlockAssociations.map((a) => a.cidrBlock),
    "cidr-block-association.association-id": (v) => v.cidrBlockAssociations.map((a) => a.associationId),
    "cidr-block-association.state": (v) => v.cidrBlockAssociations.map((a) => a.state),
    "ipv6-cidr-block-association.ipv6-cidr-block": (v) => v.ipv6CidrBlockAssociations.map((a) => a.ipv6CidrBlock),
    "ipv6-cidr-block-association.association-id": (v) => v.ipv6CidrBlockAssociations.map((a) => a.associationId),
    "ipv6-cidr-block-association.state": (v) => v.ipv6CidrBlockAssociations.map((a) => a.state),
    "ipv6-cidr-block-association.ipv6-pool": (v) => v.ipv6CidrBlockAssociations.map((a) => a.ipv6Pool),
    "is-default": () => one(false),
    state: () => one("available"),
  },
};

export const securityGroupFilters: FilterSpec<SecurityGroup> = {
  tags: (g) => g.tags,
  fields: {
    "group-id": (g) => one(g.groupId),
    "group-name": (g) => one(g.groupName),
    description: (g) => one(g.description),
    "vpc-id": (g) => one(g.vpcId),
    "owner-id": (g) => one(g.ownerId),
  },
};

export const instanceTypeFilters: FilterSpec<InstanceTypeInfo> = {
  fields: {
    "instance-type": (t) => one(t.instanceType),
    hypervisor: (t) => one(t.hypervisor),
    "bare-metal": (t) => one(t.bareMetal),
    "network-info.maximum-network-interfaces": (t) => one(t.maxEnisAllCards),
    "network-info.maximum-network-cards": (t) => one(t.networkCards),
    "network-info.ipv4-addresses-per-interface": (t) => one(t.ipv4PerEni),
    "network-info.ipv6-addresses-per-interface": (t) => one(t.ipv6PerEni),
  },
};

export const PAGING = {
  networkInterfaces: {
    action: "DescribeNetworkInterfaces",
    min: 5,
    max: 1000,
    idsExcludeMaxResults: { idsParameter: "networkInterfaceIdSet" },
  },
  instances: { action: "DescribeInstances", min: 5, max: 1000, idsExcludeMaxResults: { idsParameter: "instancesSet" } },
  subnets: { action: "DescribeSubnets", min: 5, max: 1000 },
  securityGroups: { action: "DescribeSecurityGroups", min: 5, max: 1000 },
  vpcs: { action: "DescribeVpcs", min: 5, max: 1000 },
  // EC2 pages DescribeInstanceTypes even without MaxResults (100 per page).
  instanceTypes: { action: "DescribeInstanceTypes", min: 5, max: 100, defaultPageSize: 100 },
} satisfies Record<string, PagingRules>;
