// The EC2 state model: VPCs, subnets, security groups, instances and ENIs, with EC2's rules, limits,
// error codes and the attachment state machine. Pure logic: no I/O, no real timers (the Clock
// schedules attach/detach completion), synchronous. Every request is validated completely before
// anything changes, so a failed request leaves the world as it was, as on EC2.
//
// Everything handed out (return values and event payloads) is a copy: callers cannot reach into
// the model's state.

import type {
  AssignIpv6AddressesInput,
  AssignIpv6AddressesOutput,
  AssignPrivateIpAddressesInput,
  AssignPrivateIpAddressesOutput,
  AttachmentResult,
  AttachNetworkInterfaceInput,
  CreateNetworkInterfaceInput,
  DescribeInput,
  Ec2Api,
  ModifyNetworkInterfaceAttributeInput,
  RunInstanceInput,
  SubnetView,
  UnassignIpv6AddressesInput,
  UnassignPrivateIpAddressesInput,
} from "./api.ts";
import {
  Ec2Error,
  type AttachTimings,
  type Clock,
  type Instance,
  type InstanceTypeInfo,
  type InterfaceType,
  type NetworkInterface,
  type PageOf,
  type SecurityGroup,
  type Subnet,
  type Tag,
  type Vpc,
  type WorldEvent,
} from "./types.ts";
import {
  addressInUse,
  incorrectInstanceState,
  insufficientCidrBlocks,
  insufficientFreeAddresses,
  interfaceInUse,
  invalidParameterCombination,
  invalidParameterValue,
  ipv6LimitExceeded,
  malformed,
  missingParameter,
  notFound,
  privateIpLimitExceeded,
} from "./errors.ts";
import { IdFactory, isWellFormedId, randomHex, type IdPrefix } from "./ids.ts";
import {
  cidrContainsCidr,
  cidrsOverlap,
  formatCidr4,
  formatIpv4,
  parseCidr4,
  parseIpv4,
  PREFIX_LENGTH,
  PREFIX_SIZE,
  type Cidr4,
} from "../ipv4.ts";
import { cidr6ContainsCidr, cidrs6Overlap, formatCidr6, formatIpv6, parseCidr6, parseIpv6, PREFIX6_LENGTH, type Cidr6 } from "./ipv6.ts";
import { SubnetPool, type Refusal } from "./subnet-pool.ts";
import { applyFilters, type FilterSpec } from "./filters.ts";
import { checkPageParameters, paginate, type PagingRules } from "./paging.ts";
import {
  instanceFilters,
  instanceTypeFilters,
  networkInterfaceFilters,
  PAGING,
  securityGroupFilters,
  subnetFilters,
  vpcFilters,
} from "./describe-specs.ts";
import { checkNewTags, mergedTags, remainingTags, validateTags } from "./tags.ts";
import { availabilityZoneId } from "./zones.ts";

export interface Ec2ModelOptions {
  clock: Clock;
  /** Read at each attach/detach; fault injection may change it while the model runs. */
  timings: AttachTimings;
  instanceTypes: Map<string, InstanceTypeInfo>;
  accountId: string;
  region: string;
  onEvent?: (e: WorldEvent) => void;
  /** Source of randomness for ids, MACs and address choice; seed it for a reproducible world. */
  random?: () => number;
}

interface VpcRecord {
  seq: number;
  vpc: Vpc;
  cidrs: Cidr4[];
  cidr6: Cidr6 | undefined;
  defaultGroupId: string;
}

interface SubnetRecord {
  seq: number;
  subnet: Subnet;
  pool: SubnetPool;
}

interface GroupRecord {
  seq: number;
  group: SecurityGroup;
}

interface InstanceRecord {
  seq: number;
  instance: Instance;
}

interface EniRecord {
  seq: number;
  eni: NetworkInterface;
}

/** Public IPv4 addresses (TEST-NET-2) handed to instances that ask for one. */
const PUBLIC_POOL_BASE = parseIpv4("198.51.100.0") as number;
const MAX_DESCRIPTION_LENGTH = 255;
const INTERFACE_TYPES: readonly InterfaceType[] = ["interface", "trunk", "efa"];
const DEFAULT_IAM_ROLE = "vpcsim-node-role";

export class Ec2Model implements Ec2Api {
  readonly #clock: Clock;
  readonly #timings: AttachTimings;
  readonly #instanceTypes: Map<string, InstanceTypeInfo>;
  readonly #accountId: string;
  readonly #region: string;
  readonly #onEvent: (e: WorldEvent) => void;
  readonly #random: () => number;
  readonly #ids: IdFactory;
  readonly #defaultImageId: string;

  // Maps keep insertion order, which is creation order: Describe* pages rely on it.
  readonly #vpcs = new Map<string, VpcRecord>();
  readonly #subnets = new Map<string, SubnetRecord>();
  readonly #groups = new Map<string, GroupRecord>();
  readonly #instances = new Map<string, InstanceRecord>();
  readonly #enis = new Map<string, EniRecord>();
  readonly #attachments = new Map<string, string>(); // attachment id -> ENI id
  readonly #publicIps = new Set<number>();
  #seq = 0;

  constructor(options: Ec2ModelOptions) {
    this.#clock = options.clock;
    this.#timings = options.timings;
    this.#instanceTypes = options.instanceTypes;
    this.#accountId = options.accountId;
    this.#region = options.region;
    this.#onEvent = options.onEvent ?? (() => {});
    this.#random = options.random ?? Math.random;
    this.#ids = new IdFactory(this.#random);
    this.#defaultImageId = `ami-${randomHex(this.#random, 17)}`;
  }

  // ======================= World building =======================

  createVpc(input: { cidrBlock: string; cidrBlocks?: string[]; ipv6?: boolean; tags?: Tag[] }): Vpc {
    const texts = [input.cidrBlock, ...(input.cidrBlocks ?? []).filter((c) => c !== input.cidrBlock)];
    const cidrs = texts.map((text) => parseVpcCidr(text));
    cidrs.forEach((cidr, i) => {
      if (cidrs.slice(0, i).some((other) => cidrsOverlap(cidr, other))) {
        throw new Ec2Error("InvalidVpc.Range", `The CIDR '${formatCidr4(cidr)}' overlaps another CIDR of the VPC.`);
      }
    });
    const tags = input.tags ?? [];
    checkNewTags(tags);
    const cidr6 = input.ipv6 ? this.#newVpcIpv6Cidr() : undefined;

    const vpcId = this.#ids.next("vpc");
    const vpc: Vpc = {
      vpcId,
      ownerId: this.#accountId,
      cidrBlock: formatCidr4(cidrs[0] as Cidr4),
      cidrBlocks: cidrs.map(formatCidr4),
      ...(cidr6 ? { ipv6CidrBlock: formatCidr6(cidr6) } : {}),
      tags: tags.map((t) => ({ ...t })),
    };
    const defaultGroupId = this.#ids.next("sg");
    this.#vpcs.set(vpcId, { seq: this.#nextSeq(), vpc, cidrs, cidr6, defaultGroupId });
    // Every VPC comes with a security group named "default", as on EC2.
    this.#groups.set(defaultGroupId, {
      seq: this.#nextSeq(),
      group: {
        groupId: defaultGroupId,
        groupName: "default",
        description: "default VPC security group",
        vpcId,
        ownerId: this.#accountId,
        tags: [],
      },
    });
    return structuredClone(vpc);
  }

  createSubnet(input: { vpcId: string; cidrBlock: string; availabilityZone: string; ipv6CidrBlock?: string; tags?: Tag[] }): Subnet {
    const vpcRecord = this.#vpcRecord(input.vpcId);
    const cidr = parseCidr4(input.cidrBlock);
    if (!cidr) throw invalidParameterValue(`Value (${input.cidrBlock}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`);
    if (cidr.prefixLength < 16 || cidr.prefixLength > 28) {
      throw new Ec2Error("InvalidSubnet.Range", `The CIDR '${input.cidrBlock}' is invalid.`);
    }
    if (!vpcRecord.cidrs.some((vpcCidr) => cidrContainsCidr(vpcCidr, cidr))) {
      throw new Ec2Error("InvalidSubnet.Range", `The CIDR '${input.cidrBlock}' is invalid.`);
    }
    const siblings = [...this.#subnets.values()].filter((s) => s.subnet.vpcId === input.vpcId);
    if (siblings.some((s) => cidrsOverlap(s.pool.cidr, cidr))) {
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
      if (siblings.some((s) => s.pool.cidr6 && cidrs6Overlap(s.pool.cidr6, taken))) {
        throw new Ec2Error("InvalidSubnet.Conflict", `The CIDR '${input.ipv6CidrBlock}' conflicts with another subnet`);
      }
    }
    const zoneId = availabilityZoneId(this.#region, input.availabilityZone);
    const tags = input.tags ?? [];
    checkNewTags(tags);

    const subnet: Subnet = {
      subnetId: this.#ids.next("subnet"),
      vpcId: input.vpcId,
      ownerId: this.#accountId,
      availabilityZone: input.availabilityZone,
      availabilityZoneId: zoneId,
      cidrBlock: formatCidr4(cidr),
      ...(cidr6 ? { ipv6CidrBlock: formatCidr6(cidr6) } : {}),
      tags: tags.map((t) => ({ ...t })),
    };
    this.#subnets.set(subnet.subnetId, {
      seq: this.#nextSeq(),
      subnet,
      pool: new SubnetPool(cidr, cidr6, this.#random),
    });
    return structuredClone(subnet);
  }

  createSecurityGroup(input: { vpcId: string; groupName: string; description: string; tags?: Tag[] }): SecurityGroup {
    this.#vpcRecord(input.vpcId);
    if (input.groupName === "" || input.groupName.length > 255 || input.groupName.startsWith("sg-")) {
      throw invalidParameterValue(`Invalid value '${input.groupName}' for groupName.`);
    }
    if ([...this.#groups.values()].some((g) => g.group.vpcId === input.vpcId && g.group.groupName === input.groupName)) {
      throw new Ec2Error("InvalidGroup.Duplicate", `The security group '${input.groupName}' already exists for VPC '${input.vpcId}'`);
    }
    const tags = input.tags ?? [];
    checkNewTags(tags);
    const group: SecurityGroup = {
      groupId: this.#ids.next("sg"),
      groupName: input.groupName,
      description: input.description,
      vpcId: input.vpcId,
      ownerId: this.#accountId,
      tags: tags.map((t) => ({ ...t })),
    };
    this.#groups.set(group.groupId, { seq: this.#nextSeq(), group });
    return structuredClone(group);
  }

  runInstance(input: RunInstanceInput): Instance {
    const type = this.#instanceTypes.get(input.instanceType);
    if (!type) throw invalidParameterValue(`The instance type '${input.instanceType}' does not exist`);
    const subnetRecord = this.#subnetRecord(input.subnetId);
    const { subnet, pool } = subnetRecord;
    const groupIds = this.#resolveGroups(input.groupIds, subnet.vpcId);
    const tags = input.tags ?? [];
    checkNewTags(tags);
    if (input.imageId !== undefined && !isWellFormedId("ami", input.imageId)) throw malformed("ami", input.imageId);

    let primary: number;
    if (input.privateIpAddress !== undefined) {
      primary = this.#explicitAddress(pool, input.privateIpAddress, new Set(), "create");
      if (pool.available < 1) throw insufficientFreeAddresses();
    } else {
      primary = this.#pickAddresses(pool, 1)[0] as number;
    }
    const publicIp = input.associatePublicIp ? this.#pickPublicIp() : undefined;

    // Commit.
    const instanceId = this.#ids.next("i");
    const launchTime = new Date(this.#clock.now());
    const eni = this.#newEni(subnetRecord, {
      description: "",
      interfaceType: "interface",
      groupIds,
      primary,
      secondaries: [],
      prefixes: [],
      addresses6: [],
      prefixes6: [],
      tags: [],
    });
    if (publicIp !== undefined) {
      this.#publicIps.add(publicIp);
      eni.publicIp = formatIpv4(publicIp);
    }
    const attachmentId = this.#ids.next("eni-attach");
    eni.status = "in-use";
    eni.attachment = {
      attachmentId,
      instanceId,
      instanceOwnerId: this.#accountId,
      deviceIndex: 0,
      networkCardIndex: type.defaultNetworkCardIndex,
      status: "attached",
      attachTime: launchTime,
      deleteOnTermination: true,
    };
    this.#attachments.set(attachmentId, eni.networkInterfaceId);
    const instance: Instance = {
      instanceId,
      instanceType: type.instanceType,
      imageId: input.imageId ?? this.#defaultImageId,
      ownerId: this.#accountId,
      vpcId: subnet.vpcId,
      subnetId: subnet.subnetId,
      availabilityZone: subnet.availabilityZone,
      state: "running",
      launchTime,
      primaryNetworkInterfaceId: eni.networkInterfaceId,
      ...(eni.publicIp !== undefined ? { publicIpAddress: eni.publicIp } : {}),
      iamRoleName: input.iamRoleName ?? DEFAULT_IAM_ROLE,
      tags: tags.map((t) => ({ ...t })),
    };
    this.#instances.set(instanceId, { seq: this.#nextSeq(), instance });
    this.#emit({ kind: "instance-launched", instance: structuredClone(instance) });
    this.#emit({ kind: "eni-attached", eni: structuredClone(eni), instanceId, deviceIndex: 0 });
    return structuredClone(instance);
  }

  terminateInstance(instanceId: string): Instance {
    const record = this.#instanceRecord(instanceId);
    const instance = record.instance;
    if (instance.state === "terminated") return structuredClone(instance);

    // Every ENI still on the instance leaves it now: deleted if DeleteOnTermination, else freed.
    for (const { eni } of [...this.#enis.values()]) {
      const attachment = eni.attachment;
      if (!attachment || attachment.instanceId !== instanceId) continue;
      this.#attachments.delete(attachment.attachmentId);
      delete eni.attachment;
      eni.status = "available";
      if (eni.publicIp !== undefined) {
        this.#publicIps.delete(parseIpv4(eni.publicIp) as number);
        delete eni.publicIp;
      }
      // Followers only saw the device if its attach completed; an in-flight attach just vanishes.
      if (attachment.status !== "attaching") {
        this.#emit({ kind: "eni-detached", eni: structuredClone(eni), instanceId, deviceIndex: attachment.deviceIndex });
      }
      if (attachment.deleteOnTermination) this.#deleteEni(eni);
    }
    instance.state = "terminated";
    delete instance.publicIpAddress;
    this.#emit({ kind: "instance-terminated", instance: structuredClone(instance) });
    return structuredClone(instance);
  }

  setSubnetReservation(subnetId: string, count: number): void {
    const record = this.#subnetRecord(subnetId);
    if (!Number.isInteger(count) || count < 0) throw invalidParameterValue(`Invalid reservation count ${count}`);
    record.pool.reservation = count;
  }

  // ======================= Describe* =======================

  describeInstances(input: DescribeInput): PageOf<Instance> {
    const records = this.#selectByIds(input, PAGING.instances, "i", this.#instances, (ids) => {
      if (ids.length === 1) return notFound("i", ids[0] as string);
      return new Ec2Error("InvalidInstanceID.NotFound", `The instance IDs '${ids.join(", ")}' do not exist`);
    });
    const spec = instanceFilters((instance) => this.#enisOfInstance(instance.instanceId));
    return this.#filterAndPage(records, (r) => r.instance, input, spec, PAGING.instances);
  }

  describeInstanceTypes(input: DescribeInput): PageOf<InstanceTypeInfo> {
    checkPageParameters(input, PAGING.instanceTypes, false);
    const all = [...this.#instanceTypes.values()].map((info, seq) => ({ seq, info }));
    let selected = all;
    if (input.ids && input.ids.length > 0) {
      const wanted = new Set(input.ids);
      const missing = input.ids.filter((id) => !this.#instanceTypes.has(id));
      if (missing.length > 0) {
        throw new Ec2Error("InvalidInstanceType", `The following supplied instance types do not exist: [${missing.join(", ")}]`);
      }
      selected = all.filter((r) => wanted.has(r.info.instanceType));
    }
    return this.#filterAndPage(selected, (r) => r.info, input, instanceTypeFilters, PAGING.instanceTypes);
  }

  describeVpcs(input: DescribeInput): PageOf<Vpc> {
    const records = this.#selectByIds(input, PAGING.vpcs, "vpc", this.#vpcs, (ids) => notFound("vpc", ids[0] as string));
    return this.#filterAndPage(records, (r) => r.vpc, input, vpcFilters, PAGING.vpcs);
  }

  describeSubnets(input: DescribeInput): PageOf<SubnetView> {
    const records = this.#selectByIds(input, PAGING.subnets, "subnet", this.#subnets, (ids) => notFound("subnet", ids[0] as string));
    const views = records.map((r) => ({ seq: r.seq, view: this.#subnetView(r) }));
    return this.#filterAndPage(views, (r) => r.view, input, subnetFilters, PAGING.subnets);
  }

  describeSecurityGroups(input: DescribeInput): PageOf<SecurityGroup> {
    const records = this.#selectByIds(input, PAGING.securityGroups, "sg", this.#groups, (ids) => notFound("sg", ids[0] as string));
    return this.#filterAndPage(records, (r) => r.group, input, securityGroupFilters, PAGING.securityGroups);
  }

  describeNetworkInterfaces(input: DescribeInput): PageOf<NetworkInterface> {
    // One id per NotFound message: the reference agent extracts a single quoted id and retries.
    const records = this.#selectByIds(input, PAGING.networkInterfaces, "eni", this.#enis, (ids) => notFound("eni", ids[0] as string));
    return this.#filterAndPage(records, (r) => r.eni, input, networkInterfaceFilters, PAGING.networkInterfaces);
  }

  // ======================= ENI lifecycle =======================

  createNetworkInterface(input: CreateNetworkInterfaceInput): NetworkInterface {
    const subnetRecord = this.#subnetRecord(input.subnetId);
    const { subnet, pool } = subnetRecord;
    const description = input.description ?? "";
    checkDescription(description);
    const interfaceType = input.interfaceType ?? "interface";
    if (!INTERFACE_TYPES.includes(interfaceType)) {
      throw invalidParameterValue(`Value (${interfaceType}) for parameter interfaceType is invalid.`);
    }
    const tags: Tag[] = [];
    for (const spec of input.tagSpecifications ?? []) {
      if (spec.resourceType !== "network-interface") {
        throw invalidParameterValue(`'${spec.resourceType}' is not a valid taggable resource type for this operation.`);
      }
      tags.push(...spec.tags);
    }
    checkNewTags(tags);
    const groupIds = this.#resolveGroups(input.groupIds, subnet.vpcId);

    // Which addresses: the primary from privateIpAddress or the list's primary entry.
    const listed = input.privateIpAddresses ?? [];
    const listedPrimaries = listed.filter((p) => p.primary);
    if (listedPrimaries.length > 1) throw invalidParameterValue("Only one primary private IP address may be specified.");
    const listedPrimary = listedPrimaries[0]?.address;
    if (input.privateIpAddress !== undefined && listedPrimary !== undefined && listedPrimary !== input.privateIpAddress) {
      throw invalidParameterCombination("The primary private IP address given in privateIpAddress and privateIpAddresses differ.");
    }
    let primaryText = input.privateIpAddress ?? listedPrimary;
    let secondaryTexts = listed.filter((p) => !p.primary).map((p) => p.address);
    if (primaryText === undefined && secondaryTexts.length > 0) {
      // No entry marked primary: the first listed address becomes the primary.
      primaryText = secondaryTexts[0];
      secondaryTexts = secondaryTexts.slice(1);
    }
    // EC2 documents the list as exclusive with counts and prefixes, even if it only names the primary.
    if (listed.length > 0 && (input.secondaryPrivateIpAddressCount !== undefined || input.ipv4PrefixCount !== undefined || (input.ipv4Prefixes?.length ?? 0) > 0)) {
      throw invalidParameterCombination(
        "privateIpAddresses cannot be specified together with secondaryPrivateIpAddressCount, ipv4Prefixes or ipv4PrefixCount.",
      );
    }
    checkIpv4Combination({
      addressCount: input.secondaryPrivateIpAddressCount,
      addresses: secondaryTexts,
      prefixCount: input.ipv4PrefixCount,
      prefixes: input.ipv4Prefixes,
    });
    const wantsIpv6 = checkIpv6Combination(input);
    if (wantsIpv6 && !pool.cidr6) {
      throw invalidParameterValue(`The subnet '${subnet.subnetId}' does not have an IPv6 CIDR block.`);
    }

    // Explicit addresses first (they must be exactly those), then counted ones around them.
    const planned = new Set<number>();
    const primaryExplicit = primaryText === undefined ? undefined : this.#explicitAddress(pool, primaryText, planned, "create");
    if (primaryExplicit !== undefined) planned.add(primaryExplicit);
    const secondaryExplicit = secondaryTexts.map((text) => {
      const address = this.#explicitAddress(pool, text, planned, "create");
      planned.add(address);
      return address;
    });
    const addressTotal = 1 + secondaryExplicit.length + (input.secondaryPrivateIpAddressCount ?? 0);
    if (addressTotal > pool.available) throw insufficientFreeAddresses();
    // Explicit prefixes are fixed before any address is picked, so no picked address lands in one.
    const explicitPrefixes = this.#explicitPrefixes(pool, input.ipv4Prefixes ?? [], planned, addressTotal);
    const avoid = new Set(planned);
    for (const base of explicitPrefixes) for (let a = base; a < base + PREFIX_SIZE; a++) avoid.add(a);
    const primary = primaryExplicit ?? (this.#pickAddresses(pool, 1, avoid)[0] as number);
    avoid.add(primary);
    planned.add(primary);
    const counted = this.#pickAddresses(pool, input.secondaryPrivateIpAddressCount ?? 0, avoid);
    const secondaries = [...secondaryExplicit, ...counted];
    counted.forEach((a) => planned.add(a));
    const prefixes = [...explicitPrefixes, ...this.#countedPrefixes(pool, input.ipv4PrefixCount, planned, addressTotal)];
    const addresses6 = this.#planAddresses6(pool, input.ipv6AddressCount, input.ipv6Addresses, "create");
    const prefixes6 = this.#planPrefixes6(pool, input.ipv6PrefixCount, undefined);

    const eni = this.#newEni(subnetRecord, {
      description,
      interfaceType,
      groupIds,
      primary,
      secondaries,
      prefixes,
      addresses6,
      prefixes6,
      tags,
    });
    return structuredClone(eni);
  }

  attachNetworkInterface(input: AttachNetworkInterfaceInput): AttachmentResult {
    const { eni } = this.#eniRecord(input.networkInterfaceId);
    const { instance } = this.#instanceRecord(input.instanceId);
    if (instance.state !== "running") throw incorrectInstanceState(instance.instanceId);
    if (eni.status !== "available") throw interfaceInUse(eni.networkInterfaceId);
    if (eni.availabilityZone !== instance.availabilityZone) {
      throw invalidParameterCombination(
        "You may not attach a network interface to an instance if they are not in the same availability zone",
      );
    }
    const type = this.#typeOf(instance);
    const networkCardIndex = input.networkCardIndex ?? type.defaultNetworkCardIndex;
    if (!Number.isInteger(networkCardIndex) || networkCardIndex < 0 || networkCardIndex >= type.networkCards) {
      throw invalidParameterValue(
        `Value (${networkCardIndex}) for parameter networkCardIndex is invalid. The instance type ${type.instanceType} supports network card indexes 0 to ${type.networkCards - 1}.`,
      );
    }
    if (!Number.isInteger(input.deviceIndex) || input.deviceIndex < 0) {
      throw invalidParameterValue(`Value (${input.deviceIndex}) for parameter deviceIndex is invalid.`);
    }
    // Attaching and detaching attachments still hold their slot and device index.
    const current = this.#enisOfInstance(instance.instanceId);
    const onCard = current.filter((e) => e.attachment?.networkCardIndex === networkCardIndex);
    if (onCard.some((e) => e.attachment?.deviceIndex === input.deviceIndex)) {
      throw invalidParameterValue(
        `Instance '${instance.instanceId}' already has an interface attached at device index '${input.deviceIndex}'.`,
      );
    }
    // The table gives the limit of the default card; other cards are assumed to have the same one.
    if (onCard.length + 1 > type.maxEnis || current.length + 1 > type.maxEnisAllCards) {
      throw new Ec2Error("AttachmentLimitExceeded", `Interface count ${onCard.length + 1} exceeds the limit for ${type.instanceType}`);
    }
    // An unattached ENI may hold more addresses than this type allows; EC2 refuses it here.
    if (eni.privateIps.length + eni.ipv4Prefixes.length > type.ipv4PerEni) throw privateIpLimitExceeded();
    if (eni.ipv6Addresses.length + eni.ipv6Prefixes.length > type.ipv6PerEni) throw ipv6LimitExceeded(eni.networkInterfaceId);

    const attachmentId = this.#ids.next("eni-attach");
    eni.status = "in-use";
    eni.attachment = {
      attachmentId,
      instanceId: instance.instanceId,
      instanceOwnerId: this.#accountId,
      deviceIndex: input.deviceIndex,
      networkCardIndex,
      status: "attaching",
      attachTime: new Date(this.#clock.now()),
      deleteOnTermination: false,
    };
    this.#attachments.set(attachmentId, eni.networkInterfaceId);
    this.#clock.after(this.#timings.attachMs, () => this.#completeAttach(eni.networkInterfaceId, attachmentId));
    return { attachmentId, networkCardIndex };
  }

  detachNetworkInterface(input: { attachmentId: string; force?: boolean }): void {
    const eni = this.#eniByAttachment(input.attachmentId);
    const attachment = eni.attachment;
    if (!attachment) throw notFound("eni-attach", input.attachmentId);
    if (attachment.deviceIndex === 0) {
      throw new Ec2Error("OperationNotPermitted", "The network interface at device index 0 cannot be detached.");
    }
    if (attachment.status !== "attached") {
      throw new Ec2Error("IncorrectState", `Attachment '${input.attachmentId}' is not in the 'attached' state (it is '${attachment.status}').`);
    }
    // `force` only matters on real hardware (skips the guest's cooperation); the outcome is the same.
    attachment.status = "detaching";
    eni.status = "detaching";
    this.#clock.after(this.#timings.detachMs, () => this.#completeDetach(eni.networkInterfaceId, input.attachmentId));
  }

  deleteNetworkInterface(input: { networkInterfaceId: string }): void {
    const { eni } = this.#eniRecord(input.networkInterfaceId);
    if (eni.status !== "available") {
      throw new Ec2Error("InvalidNetworkInterface.InUse", `The network interface '${eni.networkInterfaceId}' is currently in use.`);
    }
    this.#deleteEni(eni);
  }

  modifyNetworkInterfaceAttribute(input: ModifyNetworkInterfaceAttributeInput): void {
    const { eni } = this.#eniRecord(input.networkInterfaceId);
    const given = [input.attachment, input.groupIds, input.sourceDestCheck, input.description].filter((v) => v !== undefined);
    if (given.length === 0) throw missingParameter("One of attachment, groupSet, sourceDestCheck or description must be specified.");
    if (given.length > 1) throw invalidParameterCombination("Only one attribute can be modified at a time.");

    if (input.attachment !== undefined) {
      const { attachmentId, deleteOnTermination } = input.attachment;
      if (!isWellFormedId("eni-attach", attachmentId)) throw malformed("eni-attach", attachmentId);
      if (eni.attachment?.attachmentId !== attachmentId) throw notFound("eni-attach", attachmentId);
      eni.attachment.deleteOnTermination = deleteOnTermination;
    } else if (input.groupIds !== undefined) {
      if (input.groupIds.length === 0) throw invalidParameterValue("At least one security group must be specified.");
      eni.groupIds = this.#resolveGroups(input.groupIds, eni.vpcId);
    } else if (input.sourceDestCheck !== undefined) {
      eni.sourceDestCheck = input.sourceDestCheck;
    } else if (input.description !== undefined) {
      checkDescription(input.description);
      eni.description = input.description;
    }
    this.#emit({ kind: "eni-changed", eni: structuredClone(eni) });
  }

  // ======================= Addresses =======================

  assignPrivateIpAddresses(input: AssignPrivateIpAddressesInput): AssignPrivateIpAddressesOutput {
    const { eni } = this.#eniRecord(input.networkInterfaceId);
    const { pool } = this.#subnetRecord(eni.subnetId);
    const explicit = input.privateIpAddresses ?? [];
    checkIpv4Combination({
      addressCount: input.secondaryPrivateIpAddressCount,
      addresses: explicit,
      prefixCount: input.ipv4PrefixCount,
      prefixes: input.ipv4Prefixes,
    });
    const requested =
      explicit.length + (input.secondaryPrivateIpAddressCount ?? 0) + (input.ipv4PrefixCount ?? 0) + (input.ipv4Prefixes?.length ?? 0);
    if (requested === 0) {
      throw missingParameter("Either privateIpAddress, secondaryPrivateIpAddressCount, ipv4Prefix or ipv4PrefixCount must be specified.");
    }
    const type = this.#attachedType(eni);
    if (type && eni.privateIps.length + eni.ipv4Prefixes.length + requested > type.ipv4PerEni) throw privateIpLimitExceeded();

    // Explicit addresses: free ones are taken; those of another ENI only move with AllowReassignment.
    const planned = new Set<number>();
    const moved = new Map<number, NetworkInterface>(); // address -> ENI losing it
    for (const text of explicit) {
      const address = parseIpv4(text);
      if (address === undefined) throw invalidParameterValue(`Invalid private IP address '${text}'.`);
      if (planned.has(address)) throw invalidParameterValue(`Address '${text}' is specified more than once.`);
      const owner = pool.ownerOfAddress(address);
      if (owner !== undefined) {
        if (owner === eni.networkInterfaceId) throw invalidParameterValue(`Address '${text}' is already assigned to '${owner}'.`);
        if (!input.allowReassignment) {
          throw invalidParameterValue(`Address '${text}' is assigned to another network interface: '${owner}'.`);
        }
        const loser = this.#eniRecord(owner).eni;
        if (loser.privateIps[0]?.address === text) {
          throw invalidParameterValue(`Address '${text}' is the primary private IP address of '${owner}' and cannot be reassigned.`);
        }
        moved.set(address, loser);
      } else {
        this.#explicitAddress(pool, text, planned, "assign");
      }
      planned.add(address);
    }
    const fresh = explicit.length - moved.size + (input.secondaryPrivateIpAddressCount ?? 0);
    if (fresh > pool.available) throw insufficientFreeAddresses();
    const counted = this.#pickAddresses(pool, input.secondaryPrivateIpAddressCount ?? 0, planned);
    const prefixes = [
      ...this.#explicitPrefixes(pool, input.ipv4Prefixes ?? [], planned, 0),
      ...this.#countedPrefixes(pool, input.ipv4PrefixCount, planned, 0),
    ];

    // Commit: losers first, so followers see the address leave before it reappears elsewhere.
    const losers = new Set<NetworkInterface>();
    for (const [address, loser] of moved) {
      const text = formatIpv4(address);
      loser.privateIps = loser.privateIps.filter((p) => p.address !== text);
      pool.releaseAddress(address);
      losers.add(loser);
    }
    for (const loser of losers) this.#emit({ kind: "eni-addresses-changed", eni: structuredClone(loser) });
    const assigned = [...planned, ...counted];
    for (const address of assigned) {
      pool.takeAddress(address, eni.networkInterfaceId);
      eni.privateIps.push({ address: formatIpv4(address), primary: false });
    }
    for (const base of prefixes) {
      pool.takePrefix(base, eni.networkInterfaceId);
      eni.ipv4Prefixes.push(`${formatIpv4(base)}/${PREFIX_LENGTH}`);
    }
    this.#emit({ kind: "eni-addresses-changed", eni: structuredClone(eni) });
    return {
      networkInterfaceId: eni.networkInterfaceId,
      assignedPrivateIpAddresses: assigned.map(formatIpv4),
      assignedIpv4Prefixes: prefixes.map((base) => `${formatIpv4(base)}/${PREFIX_LENGTH}`),
    };
  }

  unassignPrivateIpAddresses(input: UnassignPrivateIpAddressesInput): void {
    const { eni } = this.#eniRecord(input.networkInterfaceId);
    const { pool } = this.#subnetRecord(eni.subnetId);
    const addresses = input.privateIpAddresses ?? [];
    const prefixes = input.ipv4Prefixes ?? [];
    if (addresses.length === 0 && prefixes.length === 0) {
      throw missingParameter("Either privateIpAddress or ipv4Prefix must be specified.");
    }
    const primary = eni.privateIps[0]?.address;
    const releasedAddresses = addresses.map((text) => {
      const address = parseIpv4(text);
      if (address === undefined) throw invalidParameterValue(`Invalid private IP address '${text}'.`);
      const canonical = formatIpv4(address);
      if (canonical === primary) {
        throw invalidParameterValue(`The primary private IP address '${canonical}' of '${eni.networkInterfaceId}' cannot be unassigned.`);
      }
      if (!eni.privateIps.some((p) => p.address === canonical)) {
        throw invalidParameterValue(`Some of the specified addresses are not assigned to interface ${eni.networkInterfaceId}`);
      }
      return address;
    });
    const releasedPrefixes = prefixes.map((text) => {
      const cidr = parseCidr4(text);
      if (!cidr || !eni.ipv4Prefixes.includes(formatCidr4(cidr))) {
        throw invalidParameterValue(`Some of the specified prefixes are not assigned to interface ${eni.networkInterfaceId}`);
      }
      return cidr.network;
    });
    for (const address of releasedAddresses) {
      pool.releaseAddress(address);
      const text = formatIpv4(address);
      eni.privateIps = eni.privateIps.filter((p) => p.address !== text);
    }
    for (const base of releasedPrefixes) {
      pool.releasePrefix(base);
      const text = `${formatIpv4(base)}/${PREFIX_LENGTH}`;
      eni.ipv4Prefixes = eni.ipv4Prefixes.filter((p) => p !== text);
    }
    this.#emit({ kind: "eni-addresses-changed", eni: structuredClone(eni) });
  }

  assignIpv6Addresses(input: AssignIpv6AddressesInput): AssignIpv6AddressesOutput {
    const { eni } = this.#eniRecord(input.networkInterfaceId);
    const { pool, subnet } = this.#subnetRecord(eni.subnetId);
    if (!checkIpv6Combination(input)) {
      throw missingParameter("Either ipv6Addresses, ipv6AddressCount, ipv6Prefixes or ipv6PrefixCount must be specified.");
    }
    if (!pool.cidr6) throw invalidParameterValue(`The subnet '${subnet.subnetId}' does not have an IPv6 CIDR block.`);
    const requested =
      (input.ipv6AddressCount ?? 0) + (input.ipv6Addresses?.length ?? 0) + (input.ipv6PrefixCount ?? 0) + (input.ipv6Prefixes?.length ?? 0);
    const type = this.#attachedType(eni);
    if (type && eni.ipv6Addresses.length + eni.ipv6Prefixes.length + requested > type.ipv6PerEni) {
      throw ipv6LimitExceeded(eni.networkInterfaceId);
    }
    const addresses = this.#planAddresses6(pool, input.ipv6AddressCount, input.ipv6Addresses, "assign");
    const prefixes = this.#planPrefixes6(pool, input.ipv6PrefixCount, input.ipv6Prefixes);
    for (const address of addresses) {
      pool.takeAddress6(address, eni.networkInterfaceId);
      eni.ipv6Addresses.push(formatIpv6(address));
    }
    for (const base of prefixes) {
      pool.takePrefix6(base, eni.networkInterfaceId);
      eni.ipv6Prefixes.push(formatCidr6({ network: base, prefixLength: PREFIX6_LENGTH }));
    }
    this.#emit({ kind: "eni-addresses-changed", eni: structuredClone(eni) });
    return {
      networkInterfaceId: eni.networkInterfaceId,
      assignedIpv6Addresses: addresses.map(formatIpv6),
      assignedIpv6Prefixes: prefixes.map((base) => formatCidr6({ network: base, prefixLength: PREFIX6_LENGTH })),
    };
  }

  unassignIpv6Addresses(input: UnassignIpv6AddressesInput): void {
    const { eni } = this.#eniRecord(input.networkInterfaceId);
    const { pool } = this.#subnetRecord(eni.subnetId);
    const addresses = input.ipv6Addresses ?? [];
    const prefixes = input.ipv6Prefixes ?? [];
    if (addresses.length === 0 && prefixes.length === 0) {
      throw missingParameter("Either ipv6Addresses or ipv6Prefixes must be specified.");
    }
    const releasedAddresses = addresses.map((text) => {
      const address = parseIpv6(text);
      if (address === undefined || !eni.ipv6Addresses.includes(formatIpv6(address))) {
        throw invalidParameterValue(`Some of the specified addresses are not assigned to interface ${eni.networkInterfaceId}`);
      }
      return address;
    });
    const releasedPrefixes = prefixes.map((text) => {
      const cidr = parseCidr6(text);
      if (!cidr || !eni.ipv6Prefixes.includes(formatCidr6(cidr))) {
        throw invalidParameterValue(`Some of the specified prefixes are not assigned to interface ${eni.networkInterfaceId}`);
      }
      return cidr.network;
    });
    for (const address of releasedAddresses) {
      pool.releaseAddress6(address);
      const text = formatIpv6(address);
      eni.ipv6Addresses = eni.ipv6Addresses.filter((a) => a !== text);
    }
    for (const base of releasedPrefixes) {
      pool.releasePrefix6(base);
      const text = formatCidr6({ network: base, prefixLength: PREFIX6_LENGTH });
      eni.ipv6Prefixes = eni.ipv6Prefixes.filter((p) => p !== text);
    }
    this.#emit({ kind: "eni-addresses-changed", eni: structuredClone(eni) });
  }

  // ======================= Tags =======================

  createTags(input: { resourceIds: string[]; tags: Tag[] }): void {
    validateTags(input.tags);
    const targets = input.resourceIds.map((id) => this.#taggable(id));
    // Validate every resource's resulting tag count before changing any of them.
    const updated = targets.map((t) => mergedTags(t.tags(), input.tags, t.id));
    targets.forEach((t, i) => t.set(updated[i] as Tag[]));
  }

  deleteTags(input: { resourceIds: string[]; tags: { key: string; value?: string }[] }): void {
    const targets = input.resourceIds.map((id) => this.#taggable(id));
    for (const t of targets) t.set(remainingTags(t.tags(), input.tags));
  }

  // ======================= Reads for vpcsim itself =======================

  instance(instanceId: string): Instance | undefined {
    const record = this.#instances.get(instanceId);
    return record && structuredClone(record.instance);
  }

  instances(): Instance[] {
    return [...this.#instances.values()].map((r) => structuredClone(r.instance));
  }

  networkInterface(eniId: string): NetworkInterface | undefined {
    const record = this.#enis.get(eniId);
    return record && structuredClone(record.eni);
  }

  networkInterfaces(): NetworkInterface[] {
    return [...this.#enis.values()].map((r) => structuredClone(r.eni));
  }

  subnet(subnetId: string): SubnetView | undefined {
    const record = this.#subnets.get(subnetId);
    return record && this.#subnetView(record);
  }

  subnets(): SubnetView[] {
    return [...this.#subnets.values()].map((r) => this.#subnetView(r));
  }

  vpc(vpcId: string): Vpc | undefined {
    const record = this.#vpcs.get(vpcId);
    return record && structuredClone(record.vpc);
  }

  vpcs(): Vpc[] {
    return [...this.#vpcs.values()].map((r) => structuredClone(r.vpc));
  }

  securityGroups(): SecurityGroup[] {
    return [...this.#groups.values()].map((r) => structuredClone(r.group));
  }

  instanceTypeInfo(instanceType: string): InstanceTypeInfo | undefined {
    const info = this.#instanceTypes.get(instanceType);
    return info && { ...info };
  }

  // ======================= Internals =======================

  #nextSeq(): number {
    return this.#seq++;
  }

  #emit(event: WorldEvent): void {
    this.#onEvent(event);
  }

  /** Looks a record up by id: malformed ids and unknown ids fail with the kind's own codes. */
  #lookup<R>(kind: IdPrefix, map: Map<string, R>, id: string): R {
    if (!isWellFormedId(kind, id)) throw malformed(kind, id);
    const record = map.get(id);
    if (!record) throw notFound(kind, id);
    return record;
  }

  #vpcRecord(id: string): VpcRecord {
    return this.#lookup("vpc", this.#vpcs, id);
  }

  #subnetRecord(id: string): SubnetRecord {
    return this.#lookup("subnet", this.#subnets, id);
  }

  #instanceRecord(id: string): InstanceRecord {
    return this.#lookup("i", this.#instances, id);
  }

  #eniRecord(id: string): EniRecord {
    return this.#lookup("eni", this.#enis, id);
  }

  #eniByAttachment(attachmentId: string): NetworkInterface {
    if (!isWellFormedId("eni-attach", attachmentId)) throw malformed("eni-attach", attachmentId);
    const eniId = this.#attachments.get(attachmentId);
    const record = eniId === undefined ? undefined : this.#enis.get(eniId);
    if (!record) throw notFound("eni-attach", attachmentId);
    return record.eni;
  }

  #typeOf(instance: Instance): InstanceTypeInfo {
    const type = this.#instanceTypes.get(instance.instanceType);
    if (!type) throw new Ec2Error("InternalError", `Unknown instance type ${instance.instanceType}`, 500);
    return type;
  }

  /** The instance type limiting an ENI's addresses, if it is attached (in any attachment state). */
  #attachedType(eni: NetworkInterface): InstanceTypeInfo | undefined {
    const instanceId = eni.attachment?.instanceId;
    const record = instanceId === undefined ? undefined : this.#instances.get(instanceId);
    return record && this.#typeOf(record.instance);
  }

  #enisOfInstance(instanceId: string): NetworkInterface[] {
    return [...this.#enis.values()].map((r) => r.eni).filter((eni) => eni.attachment?.instanceId === instanceId);
  }

  /** Security groups for an ENI: the VPC's default group if none given; each must be in the VPC. */
  #resolveGroups(groupIds: string[] | undefined, vpcId: string): string[] {
    if (groupIds === undefined || groupIds.length === 0) return [this.#vpcRecord(vpcId).defaultGroupId];
    const unique = [...new Set(groupIds)];
    for (const id of unique) {
      if (!isWellFormedId("sg", id)) throw malformed("sg", id);
      const record = this.#groups.get(id);
      if (!record || record.group.vpcId !== vpcId) {
        throw new Ec2Error("InvalidGroup.NotFound", `The security group '${id}' does not exist in VPC '${vpcId}'`);
      }
    }
    return unique;
  }

  #subnetView(record: SubnetRecord): SubnetView {
    return { ...structuredClone(record.subnet), availableIpAddressCount: record.pool.available };
  }

  /** Validates an explicitly requested IPv4 address for this subnet; returns it as a number. */
  #explicitAddress(pool: SubnetPool, text: string, planned: ReadonlySet<number>, action: "create" | "assign"): number {
    const address = parseIpv4(text);
    if (address === undefined) throw invalidParameterValue(`Invalid private IP address '${text}'.`);
    const refusal = pool.refuseAddress(address, planned);
    if (refusal !== undefined) throw addressRefused(refusal, text, action);
    return address;
  }

  #pickAddresses(pool: SubnetPool, count: number, planned: ReadonlySet<number> = new Set()): number[] {
    if (count === 0) return [];
    const picked = pool.pickAddresses(count, planned);
    if (!picked) throw insufficientFreeAddresses();
    return picked;
  }

  /** Validates explicitly requested /28 prefixes. `alsoTaking` addresses of this request count as used. */
  #explicitPrefixes(pool: SubnetPool, texts: string[], plannedAddresses: ReadonlySet<number>, alsoTaking: number): number[] {
    if (texts.length === 0) return [];
    const bases = new Set<number>();
    for (const text of texts) {
      const cidr = parseCidr4(text);
      if (!cidr || cidr.prefixLength !== PREFIX_LENGTH) throw invalidParameterValue(`Invalid IPv4 prefix '${text}': expecting a /28.`);
      const refusal = pool.refusePrefix(cidr.network, plannedAddresses, bases);
      if (refusal !== undefined) throw invalidParameterValue(`The prefix '${text}' cannot be assigned: ${REFUSAL_TEXT[refusal]}.`);
      bases.add(cidr.network);
    }
    if (bases.size * PREFIX_SIZE + alsoTaking > pool.available) throw insufficientCidrBlocks();
    return [...bases];
  }

  /** Picks `count` free /28 prefixes clear of `plannedAddresses`. */
  #countedPrefixes(pool: SubnetPool, count: number | undefined, plannedAddresses: ReadonlySet<number>, alsoTaking: number): number[] {
    if (!count) return [];
    if (count * PREFIX_SIZE + alsoTaking > pool.available) throw insufficientCidrBlocks();
    const picked = pool.pickPrefixes(count, plannedAddresses);
    if (!picked) throw insufficientCidrBlocks();
    return picked;
  }

  #planAddresses6(pool: SubnetPool, count: number | undefined, explicit: string[] | undefined, action: "create" | "assign"): bigint[] {
    if (explicit !== undefined && explicit.length > 0) {
      const planned = new Set<bigint>();
      for (const text of explicit) {
        const address = parseIpv6(text);
        if (address === undefined) throw invalidParameterValue(`Invalid IPv6 address '${text}'.`);
        const refusal = pool.refuseAddress6(address, planned);
        if (refusal !== undefined) throw addressRefused(refusal, text, action);
        planned.add(address);
      }
      return [...planned];
    }
    if (!count) return [];
    const picked = pool.pickAddresses6(count);
    if (!picked) throw insufficientFreeAddresses();
    return picked;
  }

  #planPrefixes6(pool: SubnetPool, count: number | undefined, explicit: string[] | undefined): bigint[] {
    if (explicit !== undefined && explicit.length > 0) {
      const planned = new Set<bigint>();
      for (const text of explicit) {
        const cidr = parseCidr6(text);
        if (!cidr || cidr.prefixLength !== PREFIX6_LENGTH) throw invalidParameterValue(`Invalid IPv6 prefix '${text}': expecting a /80.`);
        const refusal = pool.refusePrefix6(cidr.network, planned);
        if (refusal !== undefined) throw invalidParameterValue(`The prefix '${text}' cannot be assigned: ${REFUSAL_TEXT[refusal]}.`);
        planned.add(cidr.network);
      }
      return [...planned];
    }
    if (!count) return [];
    const picked = pool.pickPrefixes6(count);
    if (!picked) throw insufficientCidrBlocks();
    return picked;
  }

  /** Creates an ENI record from planned addresses and takes them in the subnet. */
  #newEni(
    subnetRecord: SubnetRecord,
    plan: {
      description: string;
      interfaceType: InterfaceType;
      groupIds: string[];
      primary: number;
      secondaries: number[];
      prefixes: number[];
      addresses6: bigint[];
      prefixes6: bigint[];
      tags: Tag[];
    },
  ): NetworkInterface {
    const { subnet, pool } = subnetRecord;
    const eniId = this.#ids.next("eni");
    const eni: NetworkInterface = {
      networkInterfaceId: eniId,
      ownerId: this.#accountId,
      vpcId: subnet.vpcId,
      subnetId: subnet.subnetId,
      availabilityZone: subnet.availabilityZone,
      description: plan.description,
      interfaceType: plan.interfaceType,
      macAddress: this.#ids.nextMac(),
      status: "available",
      sourceDestCheck: true,
      requesterManaged: false,
      groupIds: [...plan.groupIds],
      privateIps: [
        { address: formatIpv4(plan.primary), primary: true },
        ...plan.secondaries.map((a) => ({ address: formatIpv4(a), primary: false })),
      ],
      ipv4Prefixes: plan.prefixes.map((base) => `${formatIpv4(base)}/${PREFIX_LENGTH}`),
      ipv6Addresses: plan.addresses6.map(formatIpv6),
      ipv6Prefixes: plan.prefixes6.map((base) => formatCidr6({ network: base, prefixLength: PREFIX6_LENGTH })),
      tags: plan.tags.map((t) => ({ ...t })),
      createdAt: new Date(this.#clock.now()),
    };
    for (const a of [plan.primary, ...plan.secondaries]) pool.takeAddress(a, eniId);
    for (const base of plan.prefixes) pool.takePrefix(base, eniId);
    for (const a of plan.addresses6) pool.takeAddress6(a, eniId);
    for (const base of plan.prefixes6) pool.takePrefix6(base, eniId);
    this.#enis.set(eniId, { seq: this.#nextSeq(), eni });
    return eni;
  }

  /** Removes an (unattached) ENI and frees everything it held. */
  #deleteEni(eni: NetworkInterface): void {
    const { pool } = this.#subnetRecord(eni.subnetId);
    for (const p of eni.privateIps) pool.releaseAddress(parseIpv4(p.address) as number);
    for (const text of eni.ipv4Prefixes) pool.releasePrefix((parseCidr4(text) as Cidr4).network);
    for (const text of eni.ipv6Addresses) pool.releaseAddress6(parseIpv6(text) as bigint);
    for (const text of eni.ipv6Prefixes) pool.releasePrefix6((parseCidr6(text) as Cidr6).network);
    this.#enis.delete(eni.networkInterfaceId);
    this.#emit({ kind: "eni-deleted", eni: structuredClone(eni) });
  }

  #completeAttach(eniId: string, attachmentId: string): void {
    const eni = this.#enis.get(eniId)?.eni;
    // The instance may have been terminated (and the attachment dropped) while attaching.
    if (!eni?.attachment || eni.attachment.attachmentId !== attachmentId || eni.attachment.status !== "attaching") return;
    eni.attachment.status = "attached";
    this.#emit({ kind: "eni-attached", eni: structuredClone(eni), instanceId: eni.attachment.instanceId, deviceIndex: eni.attachment.deviceIndex });
  }

  #completeDetach(eniId: string, attachmentId: string): void {
    const eni = this.#enis.get(eniId)?.eni;
    const attachment = eni?.attachment;
    if (!eni || !attachment || attachment.attachmentId !== attachmentId || attachment.status !== "detaching") return;
    this.#attachments.delete(attachmentId);
    delete eni.attachment;
    eni.status = "available";
    this.#emit({ kind: "eni-detached", eni: structuredClone(eni), instanceId: attachment.instanceId, deviceIndex: attachment.deviceIndex });
  }

  #pickPublicIp(): number {
    const free: number[] = [];
    for (let host = 1; host <= 254; host++) {
      if (!this.#publicIps.has(PUBLIC_POOL_BASE + host)) free.push(PUBLIC_POOL_BASE + host);
    }
    if (free.length === 0) throw new Ec2Error("AddressLimitExceeded", "The maximum number of addresses has been reached.");
    return free[Math.floor(this.#random() * free.length)] as number;
  }

  /** A fresh /56 for a dual-stack VPC, from Amazon's 2600:1f00::/24 style pool. */
  #newVpcIpv6Cidr(): Cidr6 {
    for (;;) {
      const text = `2600:1f18:${randomHex(this.#random, 4)}:${randomHex(this.#random, 2)}00::/56`;
      const cidr = parseCidr6(text) as Cidr6;
      if (![...this.#vpcs.values()].some((v) => v.cidr6 && cidrs6Overlap(v.cidr6, cidr))) return cidr;
    }
  }

  /** Resolves a CreateTags/DeleteTags resource id to accessors of its tag list. */
  #taggable(id: string): { id: string; tags: () => Tag[]; set: (tags: Tag[]) => void } {
    const holder = (target: { tags: Tag[] }, after?: () => void) => ({
      id,
      tags: () => target.tags,
      set: (tags: Tag[]) => {
        target.tags = tags;
        after?.();
      },
    });
    // Kind by prefix first, so a malformed "eni-..." gets the ENI's Malformed code.
    if (id.startsWith("eni-") && !id.startsWith("eni-attach-")) {
      const { eni } = this.#eniRecord(id);
      return holder(eni, () => this.#emit({ kind: "eni-changed", eni: structuredClone(eni) }));
    }
    if (id.startsWith("i-")) return holder(this.#instanceRecord(id).instance);
    if (id.startsWith("subnet-")) return holder(this.#subnetRecord(id).subnet);
    if (id.startsWith("vpc-")) return holder(this.#vpcRecord(id).vpc);
    if (id.startsWith("sg-")) return holder(this.#lookup("sg", this.#groups, id).group);
    throw new Ec2Error("InvalidID", `The ID '${id}' is not valid`);
  }

  /** Picks the records named by `ids` (all if none), checking paging parameters first. */
  #selectByIds<R extends { seq: number }>(
    input: DescribeInput,
    rules: PagingRules,
    kind: IdPrefix,
    map: Map<string, R>,
    missingError: (ids: string[]) => Ec2Error,
  ): R[] {
    const ids = input.ids ?? [];
    checkPageParameters(input, rules, ids.length > 0);
    if (ids.length === 0) return [...map.values()];
    for (const id of ids) if (!isWellFormedId(kind, id)) throw malformed(kind, id);
    const missing = ids.filter((id) => !map.has(id));
    if (missing.length > 0) throw missingError([...new Set(missing)]);
    const wanted = new Set(ids);
    return [...map.entries()].filter(([id]) => wanted.has(id)).map(([, record]) => record);
  }

  #filterAndPage<R extends { seq: number }, T>(
    records: R[],
    itemOf: (record: R) => T,
    input: DescribeInput,
    spec: FilterSpec<T>,
    rules: PagingRules,
  ): PageOf<T> {
    const matching = new Set(applyFilters(records.map(itemOf), input.filters, spec));
    const kept = records.filter((r) => matching.has(itemOf(r)));
    const page = paginate(kept, (r) => r.seq, input, rules);
    return { items: page.items.map((r) => structuredClone(itemOf(r))), ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
  }
}

// ---- request-shape checks shared by Create and Assign ----

const REFUSAL_TEXT: Record<Refusal, string> = {
  outside: "it is not within the subnet's CIDR block",
  reserved: "it is in the subnet's reserved address range",
  misaligned: "it is not aligned to its prefix length",
  "in-use": "it overlaps addresses already in use",
  "in-prefix": "it lies inside a prefix already assigned",
};

function addressRefused(refusal: Refusal, text: string, action: "create" | "assign"): Ec2Error {
  if (refusal === "in-use" || refusal === "in-prefix") {
    return action === "create" ? addressInUse(text) : invalidParameterValue(`Address '${text}' is in use.`);
  }
  return invalidParameterValue(`Address '${text}' cannot be used: ${REFUSAL_TEXT[refusal]}.`);
}

function checkCount(name: string, count: number | undefined): void {
  if (count !== undefined && (!Number.isInteger(count) || count < 1)) {
    throw invalidParameterValue(`Value (${count}) for parameter ${name} is invalid. Expecting a value greater than 0.`);
  }
}

/** Secondary addresses and /28 prefixes cannot be mixed; a count and a list of one kind neither. */
function checkIpv4Combination(r: { addressCount?: number | undefined; addresses: string[]; prefixCount?: number | undefined; prefixes?: string[] | undefined }): void {
  checkCount("secondaryPrivateIpAddressCount", r.addressCount);
  checkCount("ipv4PrefixCount", r.prefixCount);
  const wantsAddresses = r.addressCount !== undefined || r.addresses.length > 0;
  const wantsPrefixes = r.prefixCount !== undefined || (r.prefixes?.length ?? 0) > 0;
  if (r.addressCount !== undefined && r.addresses.length > 0) {
    throw invalidParameterCombination("You may specify secondaryPrivateIpAddressCount or specific secondary private IP addresses, but not both.");
  }
  if (r.prefixCount !== undefined && (r.prefixes?.length ?? 0) > 0) {
    throw invalidParameterCombination("You may specify ipv4PrefixCount or specific IPv4 prefixes, but not both.");
  }
  if (wantsAddresses && wantsPrefixes) {
    throw invalidParameterCombination("You may not specify secondary private IP addresses and IPv4 prefixes in the same request.");
  }
}

/** The same rules for IPv6; returns whether any IPv6 address or prefix is requested. */
function checkIpv6Combination(r: {
  ipv6AddressCount?: number | undefined;
  ipv6Addresses?: string[] | undefined;
  ipv6PrefixCount?: number | undefined;
  ipv6Prefixes?: string[] | undefined;
}): boolean {
  checkCount("ipv6AddressCount", r.ipv6AddressCount);
  checkCount("ipv6PrefixCount", r.ipv6PrefixCount);
  const listed = r.ipv6Addresses?.length ?? 0;
  const listedPrefixes = r.ipv6Prefixes?.length ?? 0;
  if (r.ipv6AddressCount !== undefined && listed > 0) {
    throw invalidParameterCombination("You may specify ipv6AddressCount or specific IPv6 addresses, but not both.");
  }
  if (r.ipv6PrefixCount !== undefined && listedPrefixes > 0) {
    throw invalidParameterCombination("You may specify ipv6PrefixCount or specific IPv6 prefixes, but not both.");
  }
  const wantsAddresses = r.ipv6AddressCount !== undefined || listed > 0;
  const wantsPrefixes = r.ipv6PrefixCount !== undefined || listedPrefixes > 0;
  if (wantsAddresses && wantsPrefixes) {
    throw invalidParameterCombination("You may not specify IPv6 addresses and IPv6 prefixes in the same request.");
  }
  return wantsAddresses || wantsPrefixes;
}

function checkDescription(description: string): void {
  if (description.length > MAX_DESCRIPTION_LENGTH) {
    throw invalidParameterValue(`Value for parameter description is invalid. Length exceeds maximum of ${MAX_DESCRIPTION_LENGTH} characters.`);
  }
}

/** A VPC CIDR: well formed, between /16 and /28 (EC2's bounds). */
function parseVpcCidr(text: string): Cidr4 {
  const cidr = parseCidr4(text);
  if (!cidr) throw invalidParameterValue(`Value (${text}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`);
  if (cidr.prefixLength < 16 || cidr.prefixLength > 28) throw new Ec2Error("InvalidVpc.Range", `The CIDR '${text}' is invalid.`);
  return cidr;
}
