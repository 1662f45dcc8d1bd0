// The EC2 world that vpcsim emulates, as plain data. This is the contract between the EC2 model
// (model.ts: rules, limits, state machine), the wire protocol (query.ts, xml.ts, server.ts), the
// instance metadata service and the fabric. It is written from EC2's documented behaviour and shares
// nothing with the agent's view of EC2 (src/aws): if both used one model, their mistakes would cancel.

export interface Tag {
  key: string;
  value: string;
}

/** Where a CIDR block association is in its life: EC2 answers "associating" and gets there shortly after. */
export type CidrBlockState = "associating" | "associated" | "disassociating" | "disassociated" | "failing" | "failed";

export interface VpcCidrBlockAssociation {
  associationId: string;
  cidrBlock: string;
  state: CidrBlockState;
}

export interface VpcIpv6CidrBlockAssociation {
  associationId: string;
  ipv6CidrBlock: string; // a /56
  state: CidrBlockState;
  networkBorderGroup: string; // the Region, for Amazon-provided blocks
  ipv6Pool: string; // "Amazon"
}

export interface SubnetIpv6CidrBlockAssociation {
  associationId: string;
  ipv6CidrBlock: string; // a /64
  state: CidrBlockState;
}

export interface Vpc {
  vpcId: string;
  ownerId: string;
  cidrBlock: string; // primary IPv4 CIDR
  cidrBlocks: string[]; // the associated IPv4 CIDRs, primary first: what the VPC routes
  ipv6CidrBlocks: string[]; // the associated IPv6 /56s
  cidrBlockAssociations: VpcCidrBlockAssociation[]; // every IPv4 association, in any state
  ipv6CidrBlockAssociations: VpcIpv6CidrBlockAssociation[];
  tags: Tag[];
}

export interface Subnet {
  subnetId: string;
  vpcId: string;
  ownerId: string;
  availabilityZone: string; // "us-east-1a"
  availabilityZoneId: string; // "use1-az1"
  cidrBlock: string;
  ipv6CidrBlock?: string; // the associated /64, once associated
  ipv6CidrBlockAssociations: SubnetIpv6CidrBlockAssociation[];
  tags: Tag[];
}

export interface SecurityGroup {
  groupId: string;
  groupName: string;
  description: string;
  vpcId: string;
  ownerId: string;
  tags: Tag[];
}

export type InstanceState = "pending" | "running" | "shutting-down" | "terminated";

export interface Instance {
  instanceId: string;
  instanceType: string;
  imageId: string;
  ownerId: string;
  vpcId: string;
  subnetId: string; // the primary ENI's subnet
  availabilityZone: string;
  state: InstanceState;
  launchTime: Date;
  primaryNetworkInterfaceId: string;
  publicIpAddress?: string; // mapped 1:1 to the primary ENI's primary private address
  iamRoleName: string; // the instance profile role that IMDS hands credentials for
  tags: Tag[];
}

export type NetworkInterfaceStatus = "available" | "attaching" | "in-use" | "detaching";
export type AttachmentStatus = "attaching" | "attached" | "detaching" | "detached";
export type InterfaceType = "interface" | "trunk" | "branch" | "efa";

export interface Attachment {
  attachmentId: string;
  instanceId: string;
  instanceOwnerId: string;
  deviceIndex: number;
  networkCardIndex: number;
  status: AttachmentStatus;
  attachTime: Date;
  deleteOnTermination: boolean;
}

export interface PrivateIp {
  address: string;
  primary: boolean;
}

export interface NetworkInterface {
  networkInterfaceId: string;
  ownerId: string;
  vpcId: string;
  subnetId: string;
  availabilityZone: string;
  description: string;
  interfaceType: InterfaceType;
  macAddress: string; // "02:xx:xx:xx:xx:xx", lower case
  status: NetworkInterfaceStatus;
  sourceDestCheck: boolean;
  requesterManaged: boolean;
  groupIds: string[];
  privateIps: PrivateIp[]; // primary first
  ipv4Prefixes: string[]; // "10.0.1.16/28"
  ipv6Addresses: string[];
  ipv6Prefixes: string[]; // "/80"s
  publicIp?: string;
  attachment?: Attachment;
  tags: Tag[];
  createdAt: Date;
}

/** An EC2 error with EC2's code, message and HTTP status. */
export class Ec2Error extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = "Ec2Error";
    this.code = code;
    this.status = status;
  }
}

/** EC2's `Filter.N.Name` / `Filter.N.Value.M`. */
export interface Filter {
  name: string;
  values: string[];
}

export interface Page {
  maxResults?: number;
  nextToken?: string;
}

export interface PageOf<T> {
  items: T[];
  nextToken?: string;
}

/** Limits of one instance type, from data/instance-types.tsv. */
export interface InstanceTypeInfo {
  instanceType: string;
  maxEnis: number; // on the default network card
  ipv4PerEni: number; // includes the ENI's primary address
  ipv6PerEni: number;
  hypervisor: string; // "nitro" | "xen" | ""
  bareMetal: boolean;
  defaultNetworkCardIndex: number;
  networkCards: number;
  maxEnisAllCards: number;
  trunking: boolean;
  branchEnis: number;
}

/** Something EC2 did that the fabric, IMDS or the call log must follow. */
export type WorldEvent =
  | { kind: "instance-launched"; instance: Instance }
  | { kind: "instance-terminated"; instance: Instance }
  | { kind: "eni-attached"; eni: NetworkInterface; instanceId: string; deviceIndex: number }
  | { kind: "eni-detached"; eni: NetworkInterface; instanceId: string; deviceIndex: number }
  | { kind: "eni-addresses-changed"; eni: NetworkInterface }
  | { kind: "eni-changed"; eni: NetworkInterface } // groups, source/dest check, tags, description
  | { kind: "eni-deleted"; eni: NetworkInterface }
  | { kind: "vpc-cidr-associated"; vpc: Vpc; cidr: string } // IPv4 or IPv6; routed from now on
  | { kind: "vpc-cidr-disassociated"; vpc: Vpc; cidr: string } // no longer routed nor shown in IMDS
  | { kind: "subnet-deleted"; subnet: Subnet }
  | { kind: "subnet-cidr-associated"; subnet: Subnet; ipv6Cidr: string };

/** Time as the model sees it; tests and benchmarks may give it a virtual clock. */
export interface Clock {
  now(): number; // ms since epoch
  after(ms: number, fn: () => void): void; // runs fn after ms; ms = 0 runs it before the next macrotask
}

/** How long EC2 takes to carry out an asynchronous change (the profile sets them; faults may raise them). */
export interface AttachTimings {
  attachMs: number; // from AttachNetworkInterface until the attachment is "attached" and the device appears
  detachMs: number; // from DetachNetworkInterface until the ENI is "available" and the device is gone
  cidrAssociationMs?: number; // from Associate{Vpc,Subnet}CidrBlock until the block is "associated" (default 0)
}
