// The operations of the EC2 model, one per EC2 action (plus the world-building ones EC2 does not
// expose). The wire layer (server.ts) turns a Query request into one of these calls and the result
// into EC2's XML; the model (model.ts) implements them with EC2's rules and throws Ec2Error with
// EC2's error codes. Parameter names follow the EC2 API reference, in lowerCamelCase.

import type {
  Filter,
  Instance,
  InstanceTypeInfo,
  NetworkInterface,
  Page,
  PageOf,
  SecurityGroup,
  Subnet,
  SubnetIpv6CidrBlockAssociation,
  Tag,
  Vpc,
  VpcCidrBlockAssociation,
  VpcIpv6CidrBlockAssociation,
  InterfaceType,
} from "./types.ts";

export interface TagSpecification {
  resourceType: string; // "network-interface", "instance", ...
  tags: Tag[];
}

export interface CreateNetworkInterfaceInput {
  subnetId: string;
  description?: string;
  groupIds?: string[]; // default: the VPC's default security group
  privateIpAddress?: string; // the primary address
  privateIpAddresses?: { address: string; primary: boolean }[];
  secondaryPrivateIpAddressCount?: number;
  ipv4PrefixCount?: number;
  ipv4Prefixes?: string[];
  ipv6AddressCount?: number;
  ipv6Addresses?: string[];
  ipv6PrefixCount?: number;
  ipv6Prefixes?: string[];
  interfaceType?: InterfaceType;
  tagSpecifications?: TagSpecification[];
}

export interface AttachNetworkInterfaceInput {
  networkInterfaceId: string;
  instanceId: string;
  deviceIndex: number;
  networkCardIndex?: number;
}

export interface ModifyNetworkInterfaceAttributeInput {
  networkInterfaceId: string;
  attachment?: { attachmentId: string; deleteOnTermination: boolean };
  groupIds?: string[];
  sourceDestCheck?: boolean;
  description?: string;
}

export interface AssignPrivateIpAddressesInput {
  networkInterfaceId: string;
  privateIpAddresses?: string[];
  secondaryPrivateIpAddressCount?: number;
  ipv4PrefixCount?: number;
  ipv4Prefixes?: string[];
  allowReassignment?: boolean;
}

export interface AssignPrivateIpAddressesOutput {
  networkInterfaceId: string;
  assignedPrivateIpAddresses: string[];
  assignedIpv4Prefixes: string[];
}

export interface UnassignPrivateIpAddressesInput {
  networkInterfaceId: string;
  privateIpAddresses?: string[];
  ipv4Prefixes?: string[];
}

export interface AssignIpv6AddressesInput {
  networkInterfaceId: string;
  ipv6Addresses?: string[];
  ipv6AddressCount?: number;
  ipv6Prefixes?: string[];
  ipv6PrefixCount?: number;
}

export interface AssignIpv6AddressesOutput {
  networkInterfaceId: string;
  assignedIpv6Addresses: string[];
  assignedIpv6Prefixes: string[];
}

export interface UnassignIpv6AddressesInput {
  networkInterfaceId: string;
  ipv6Addresses?: string[];
  ipv6Prefixes?: string[];
}

export interface RunInstanceInput {
  instanceType: string;
  subnetId: string;
  groupIds?: string[]; // default: the VPC's default security group
  privateIpAddress?: string;
  /** IPv6 addresses or /80 prefixes of the primary ENI, from its subnet's /64 (a count or a list, not both). */
  ipv6AddressCount?: number;
  ipv6Addresses?: string[];
  ipv6PrefixCount?: number;
  ipv6Prefixes?: string[];
  associatePublicIp?: boolean;
  imageId?: string;
  iamRoleName?: string;
  tags?: Tag[];
}

export interface CreateSubnetInput {
  vpcId: string;
  cidrBlock: string;
  availabilityZone: string;
  ipv6CidrBlock?: string; // a /64 of one of the VPC's IPv6 blocks
  tags?: Tag[];
}

/** One of cidrBlock (a secondary IPv4 block), amazonProvidedIpv6CidrBlock, ipv6Pool. */
export interface AssociateVpcCidrBlockInput {
  vpcId: string;
  cidrBlock?: string;
  amazonProvidedIpv6CidrBlock?: boolean;
  ipv6CidrBlockNetworkBorderGroup?: string;
  ipv6Pool?: string;
}

export interface VpcCidrBlockResult {
  vpcId: string;
  cidrBlockAssociation?: VpcCidrBlockAssociation;
  ipv6CidrBlockAssociation?: VpcIpv6CidrBlockAssociation;
}

export interface AssociateSubnetCidrBlockInput {
  subnetId: string;
  ipv6CidrBlock: string;
}

export interface SubnetCidrBlockResult {
  subnetId: string;
  ipv6CidrBlockAssociation: SubnetIpv6CidrBlockAssociation;
}

export interface CreateSecurityGroupInput {
  vpcId: string;
  groupName: string;
  description: string;
  tags?: Tag[];
}

export interface DescribeInput extends Page {
  ids?: string[];
  filters?: Filter[];
}

export interface AttachmentResult {
  attachmentId: string;
  networkCardIndex: number;
}

export interface SubnetView extends Subnet {
  availableIpAddressCount: number;
}

export interface Ec2Api {
  // World building (vpcsim's own; not EC2 actions except where EC2 has one)
  createVpc(input: { cidrBlock: string; cidrBlocks?: string[]; ipv6?: boolean; tags?: Tag[] }): Vpc;
  createSubnet(input: CreateSubnetInput): Subnet; // EC2 CreateSubnet
  createSecurityGroup(input: CreateSecurityGroupInput): SecurityGroup; // EC2 CreateSecurityGroup
  runInstance(input: RunInstanceInput): Instance; // EC2 RunInstances with MinCount=MaxCount=1
  terminateInstance(instanceId: string): Instance; // EC2 TerminateInstances
  /** Fault injection: hide `count` free addresses of a subnet, as if other tenants took them (0 lifts it). */
  setSubnetReservation(subnetId: string, count: number): void;

  // EC2 actions
  associateVpcCidrBlock(input: AssociateVpcCidrBlockInput): VpcCidrBlockResult;
  associateSubnetCidrBlock(input: AssociateSubnetCidrBlockInput): SubnetCidrBlockResult;
  disassociateVpcCidrBlock(input: { associationId: string }): VpcCidrBlockResult;
  deleteSubnet(input: { subnetId: string }): void; // EC2 DeleteSubnet
  describeInstances(input: DescribeInput): PageOf<Instance>;
  describeInstanceTypes(input: DescribeInput): PageOf<InstanceTypeInfo>;
  describeVpcs(input: DescribeInput): PageOf<Vpc>;
  describeSubnets(input: DescribeInput): PageOf<SubnetView>;
  describeSecurityGroups(input: DescribeInput): PageOf<SecurityGroup>;
  describeNetworkInterfaces(input: DescribeInput): PageOf<NetworkInterface>;
  createNetworkInterface(input: CreateNetworkInterfaceInput): NetworkInterface;
  attachNetworkInterface(input: AttachNetworkInterfaceInput): AttachmentResult;
  detachNetworkInterface(input: { attachmentId: string; force?: boolean }): void;
  deleteNetworkInterface(input: { networkInterfaceId: string }): void;
  modifyNetworkInterfaceAttribute(input: ModifyNetworkInterfaceAttributeInput): void;
  assignPrivateIpAddresses(input: AssignPrivateIpAddressesInput): AssignPrivateIpAddressesOutput;
  unassignPrivateIpAddresses(input: UnassignPrivateIpAddressesInput): void;
  assignIpv6Addresses(input: AssignIpv6AddressesInput): AssignIpv6AddressesOutput;
  unassignIpv6Addresses(input: UnassignIpv6AddressesInput): void;
  createTags(input: { resourceIds: string[]; tags: Tag[] }): void;
  deleteTags(input: { resourceIds: string[]; tags: { key: string; value?: string }[] }): void;

  // Reads for vpcsim itself (fabric, IMDS, status): no filtering, no paging, no throttling
  instance(instanceId: string): Instance | undefined;
  instances(): Instance[];
  networkInterface(eniId: string): NetworkInterface | undefined;
  networkInterfaces(): NetworkInterface[];
  subnet(subnetId: string): SubnetView | undefined;
  subnets(): SubnetView[];
  vpc(vpcId: string): Vpc | undefined;
  vpcs(): Vpc[];
  securityGroups(): SecurityGroup[];
  instanceTypeInfo(instanceType: string): InstanceTypeInfo | undefined;
}
