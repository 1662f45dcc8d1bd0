// The EC2 state model: VPCs, subnets, security groups, instances and ENIs, with EC2's rules, limits,
// error codes and the attachment state machine. Pure logic: no I/O, no real timers (the Clock
// schedules attach/detach completion), synchronous. Every request is validated completely before
// anything changes, so a failed request leaves the world as it was, as on EC2.
//
// This class is the model's one face (Ec2Api); each resource's rules live in a file of their own,
// as functions over the shared ModelState. Everything handed out (return values and event payloads)
// is a copy: callers cannot reach into the model's state.

import type {
  AssociateSubnetCidrBlockInput,
  AssociateVpcCidrBlockInput,
  AssignIpv6AddressesInput,
  AssignIpv6AddressesOutput,
  AssignPrivateIpAddressesInput,
  AssignPrivateIpAddressesOutput,
  AttachmentResult,
  AttachNetworkInterfaceInput,
  CreateNetworkInterfaceInput,
  CreateSubnetInput,
  DescribeInput,
  Ec2Api,
  ModifyNetworkInterfaceAttributeInput,
  RunInstanceInput,
  SubnetCidrBlockResult,
  SubnetView,
  UnassignIpv6AddressesInput,
  UnassignPrivateIpAddressesInput,
  VpcCidrBlockResult,
} from "./api.ts";
import type { Instance, InstanceTypeInfo, NetworkInterface, PageOf, SecurityGroup, Subnet, Tag, Vpc } from "./types.ts";
import { ModelState, type Ec2ModelOptions } from "./model-state.ts";
import * as vpcRules from "./vpcs.ts";
import * as cidrRules from "./cidr-blocks.ts";
import * as groupRules from "./security-groups.ts";
import * as instanceRules from "./instances.ts";
import * as eniRules from "./network-interfaces.ts";
import * as privateIpRules from "./private-ip-addresses.ts";
import * as ipv6Rules from "./ipv6-addresses.ts";
import * as tagRules from "./tagging.ts";

export type { Ec2ModelOptions } from "./model-state.ts";

export class Ec2Model implements Ec2Api {
  readonly #s: ModelState;

  constructor(options: Ec2ModelOptions) {
    this.#s = new ModelState(options);
  }

  // ======================= World building =======================

  createVpc(input: { cidrBlock: string; cidrBlocks?: string[]; ipv6?: boolean; tags?: Tag[] }): Vpc {
    return vpcRules.createVpc(this.#s, input);
  }

  createSubnet(input: CreateSubnetInput): Subnet {
    return vpcRules.createSubnet(this.#s, input);
  }

  createSecurityGroup(input: { vpcId: string; groupName: string; description: string; tags?: Tag[] }): SecurityGroup {
    return groupRules.createSecurityGroup(this.#s, input);
  }

  runInstance(input: RunInstanceInput): Instance {
    return instanceRules.runInstance(this.#s, input);
  }

  terminateInstance(instanceId: string): Instance {
    return instanceRules.terminateInstance(this.#s, instanceId);
  }

  setSubnetReservation(subnetId: string, count: number): void {
    vpcRules.setSubnetReservation(this.#s, subnetId, count);
  }

  // ======================= CIDR blocks =======================

  associateVpcCidrBlock(input: AssociateVpcCidrBlockInput): VpcCidrBlockResult {
    return cidrRules.associateVpcCidrBlock(this.#s, input);
  }

  associateSubnetCidrBlock(input: AssociateSubnetCidrBlockInput): SubnetCidrBlockResult {
    return cidrRules.associateSubnetCidrBlock(this.#s, input);
  }

  disassociateVpcCidrBlock(input: { associationId: string }): VpcCidrBlockResult {
    return cidrRules.disassociateVpcCidrBlock(this.#s, input);
  }

  deleteSubnet(input: { subnetId: string }): void {
    vpcRules.deleteSubnet(this.#s, input);
  }

  // ======================= Describe* =======================

  describeInstances(input: DescribeInput): PageOf<Instance> {
    return instanceRules.describeInstances(this.#s, input);
  }

  describeInstanceTypes(input: DescribeInput): PageOf<InstanceTypeInfo> {
    return instanceRules.describeInstanceTypes(this.#s, input);
  }

  describeVpcs(input: DescribeInput): PageOf<Vpc> {
    return vpcRules.describeVpcs(this.#s, input);
  }

  describeSubnets(input: DescribeInput): PageOf<SubnetView> {
    return vpcRules.describeSubnets(this.#s, input);
  }

  describeSecurityGroups(input: DescribeInput): PageOf<SecurityGroup> {
    return groupRules.describeSecurityGroups(this.#s, input);
  }

  describeNetworkInterfaces(input: DescribeInput): PageOf<NetworkInterface> {
    return eniRules.describeNetworkInterfaces(this.#s, input);
  }

  // ======================= ENI lifecycle =======================

  createNetworkInterface(input: CreateNetworkInterfaceInput): NetworkInterface {
    return eniRules.createNetworkInterface(this.#s, input);
  }

  attachNetworkInterface(input: AttachNetworkInterfaceInput): AttachmentResult {
    return eniRules.attachNetworkInterface(this.#s, input);
  }

  detachNetworkInterface(input: { attachmentId: string; force?: boolean }): void {
    eniRules.detachNetworkInterface(this.#s, input);
  }

  deleteNetworkInterface(input: { networkInterfaceId: string }): void {
    eniRules.deleteNetworkInterface(this.#s, input);
  }

  modifyNetworkInterfaceAttribute(input: ModifyNetworkInterfaceAttributeInput): void {
    eniRules.modifyNetworkInterfaceAttribute(this.#s, input);
  }

  // ======================= Addresses =======================

  assignPrivateIpAddresses(input: AssignPrivateIpAddressesInput): AssignPrivateIpAddressesOutput {
    return privateIpRules.assignPrivateIpAddresses(this.#s, input);
  }

  unassignPrivateIpAddresses(input: UnassignPrivateIpAddressesInput): void {
    privateIpRules.unassignPrivateIpAddresses(this.#s, input);
  }

  assignIpv6Addresses(input: AssignIpv6AddressesInput): AssignIpv6AddressesOutput {
    return ipv6Rules.assignIpv6Addresses(this.#s, input);
  }

  unassignIpv6Addresses(input: UnassignIpv6AddressesInput): void {
    ipv6Rules.unassignIpv6Addresses(this.#s, input);
  }

  // ======================= Tags =======================

  createTags(input: { resourceIds: string[]; tags: Tag[] }): void {
    tagRules.createTags(this.#s, input);
  }

  deleteTags(input: { resourceIds: string[]; tags: { key: string; value?: string }[] }): void {
    tagRules.deleteTags(this.#s, input);
  }

  // ======================= Reads for vpcsim itself =======================

  instance(instanceId: string): Instance | undefined {
    const record = this.#s.instances.get(instanceId);
    return record && structuredClone(record.instance);
  }

  instances(): Instance[] {
    return [...this.#s.instances.values()].map((r) => structuredClone(r.instance));
  }

  networkInterface(eniId: string): NetworkInterface | undefined {
    const record = this.#s.enis.get(eniId);
    return record && structuredClone(record.eni);
  }

  networkInterfaces(): NetworkInterface[] {
    return [...this.#s.enis.values()].map((r) => structuredClone(r.eni));
  }

  subnet(subnetId: string): SubnetView | undefined {
    const record = this.#s.subnets.get(subnetId);
    return record && vpcRules.subnetView(record);
  }

  subnets(): SubnetView[] {
    return [...this.#s.subnets.values()].map((r) => vpcRules.subnetView(r));
  }

  vpc(vpcId: string): Vpc | undefined {
    const record = this.#s.vpcs.get(vpcId);
    return record && structuredClone(record.vpc);
  }

  vpcs(): Vpc[] {
    return [...this.#s.vpcs.values()].map((r) => structuredClone(r.vpc));
  }

  securityGroups(): SecurityGroup[] {
    return [...this.#s.groups.values()].map((r) => structuredClone(r.group));
  }

  instanceTypeInfo(instanceType: string): InstanceTypeInfo | undefined {
    const info = this.#s.instanceTypes.get(instanceType);
    return info && { ...info };
  }
}
