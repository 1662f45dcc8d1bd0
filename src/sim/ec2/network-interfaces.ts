// Elastic network interfaces: creation with their first addresses, the attachment state machine
// (attaching → attached → detaching → available, completed on the model's clock), EC2's limits per
// instance type at attach, deletion, ModifyNetworkInterfaceAttribute and DescribeNetworkInterfaces.

import type {
  AttachmentResult,
  AttachNetworkInterfaceInput,
  CreateNetworkInterfaceInput,
  DescribeInput,
  ModifyNetworkInterfaceAttributeInput,
} from "./api.ts";
import { Ec2Error, type InterfaceType, type NetworkInterface, type PageOf, type Tag } from "./types.ts";
import {
  incorrectInstanceState,
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
import { isWellFormedId } from "./ids.ts";
import { formatIpv4, parseCidr4, parseIpv4, PREFIX_LENGTH, PREFIX_SIZE, type Cidr4 } from "../ipv4.ts";
import { formatCidr6, formatIpv6, parseCidr6, parseIpv6, PREFIX6_LENGTH, type Cidr6 } from "../ipv6.ts";
import {
  checkIpv4Combination,
  checkIpv6Combination,
  checkPrefixDelegation,
  countedPrefixes,
  explicitAddress,
  explicitPrefixes,
  pickAddresses,
  planAddresses6,
  planPrefixes6,
} from "./address-plans.ts";
import { networkInterfaceFilters, PAGING } from "./describe-specs.ts";
import { filterAndPage, selectByIds } from "./describe.ts";
import { checkNewTags } from "./tags.ts";
import { resolveGroups } from "./security-groups.ts";
import type { ModelState, SubnetRecord } from "./model-state.ts";

const MAX_DESCRIPTION_LENGTH = 255;
const INTERFACE_TYPES: readonly InterfaceType[] = ["interface", "trunk", "efa"];

export function createNetworkInterface(s: ModelState, input: CreateNetworkInterfaceInput): NetworkInterface {
  const subnetRecord = s.subnetRecord(input.subnetId);
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
  const groupIds = resolveGroups(s, input.groupIds, subnet.vpcId);

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
  const primaryExplicit = primaryText === undefined ? undefined : explicitAddress(pool, primaryText, planned, "create");
  if (primaryExplicit !== undefined) planned.add(primaryExplicit);
  const secondaryExplicit = secondaryTexts.map((text) => {
    const address = explicitAddress(pool, text, planned, "create");
    planned.add(address);
    return address;
  });
  const addressTotal = 1 + secondaryExplicit.length + (input.secondaryPrivateIpAddressCount ?? 0);
  if (addressTotal > pool.available) throw insufficientFreeAddresses();
  // Explicit prefixes are fixed before any address is picked, so no picked address lands in one.
  const fixedPrefixes = explicitPrefixes(pool, input.ipv4Prefixes ?? [], planned, addressTotal);
  const avoid = new Set(planned);
  for (const base of fixedPrefixes) for (let a = base; a < base + PREFIX_SIZE; a++) avoid.add(a);
  const primary = primaryExplicit ?? (pickAddresses(pool, 1, avoid)[0] as number);
  avoid.add(primary);
  planned.add(primary);
  const counted = pickAddresses(pool, input.secondaryPrivateIpAddressCount ?? 0, avoid);
  const secondaries = [...secondaryExplicit, ...counted];
  counted.forEach((a) => planned.add(a));
  const prefixes = [...fixedPrefixes, ...countedPrefixes(pool, input.ipv4PrefixCount, planned, addressTotal)];
  const addresses6 = planAddresses6(pool, input.ipv6AddressCount, input.ipv6Addresses, "create");
  const prefixes6 = planPrefixes6(pool, input.ipv6PrefixCount, input.ipv6Prefixes);

  const eni = newEni(s, subnetRecord, {
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

export function attachNetworkInterface(s: ModelState, input: AttachNetworkInterfaceInput): AttachmentResult {
  const { eni } = s.eniRecord(input.networkInterfaceId);
  const { instance } = s.instanceRecord(input.instanceId);
  if (instance.state !== "running") throw incorrectInstanceState(instance.instanceId);
  if (eni.status !== "available") throw interfaceInUse(eni.networkInterfaceId);
  if (eni.availabilityZone !== instance.availabilityZone) {
    throw invalidParameterCombination(
      "You may not attach a network interface to an instance if they are not in the same availability zone",
    );
  }
  const type = s.typeOf(instance);
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
  const current = s.enisOfInstance(instance.instanceId);
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
  if (eni.ipv6Prefixes.length > 0) checkPrefixDelegation(type);

  const attachmentId = s.ids.next("eni-attach");
  eni.status = "in-use";
  eni.attachment = {
    attachmentId,
    instanceId: instance.instanceId,
    instanceOwnerId: s.accountId,
    deviceIndex: input.deviceIndex,
    networkCardIndex,
    status: "attaching",
    attachTime: new Date(s.clock.now()),
    deleteOnTermination: false,
  };
  s.attachments.set(attachmentId, eni.networkInterfaceId);
  s.clock.after(s.timings.attachMs, () => completeAttach(s, eni.networkInterfaceId, attachmentId));
  return { attachmentId, networkCardIndex };
}

export function detachNetworkInterface(s: ModelState, input: { attachmentId: string; force?: boolean }): void {
  const eni = s.eniByAttachment(input.attachmentId);
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
  s.clock.after(s.timings.detachMs, () => completeDetach(s, eni.networkInterfaceId, input.attachmentId));
}

export function deleteNetworkInterface(s: ModelState, input: { networkInterfaceId: string }): void {
  const { eni } = s.eniRecord(input.networkInterfaceId);
  if (eni.status !== "available") {
    throw new Ec2Error("InvalidNetworkInterface.InUse", `The network interface '${eni.networkInterfaceId}' is currently in use.`);
  }
  deleteEni(s, eni);
}

export function modifyNetworkInterfaceAttribute(s: ModelState, input: ModifyNetworkInterfaceAttributeInput): void {
  const { eni } = s.eniRecord(input.networkInterfaceId);
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
    eni.groupIds = resolveGroups(s, input.groupIds, eni.vpcId);
  } else if (input.sourceDestCheck !== undefined) {
    eni.sourceDestCheck = input.sourceDestCheck;
  } else if (input.description !== undefined) {
    checkDescription(input.description);
    eni.description = input.description;
  }
  s.emit({ kind: "eni-changed", eni: structuredClone(eni) });
}

export function describeNetworkInterfaces(s: ModelState, input: DescribeInput): PageOf<NetworkInterface> {
  // One id per NotFound message: the reference agent extracts a single quoted id and retries.
  const records = selectByIds(input, PAGING.networkInterfaces, "eni", s.enis, (ids) => notFound("eni", ids[0] as string));
  return filterAndPage(records, (r) => r.eni, input, networkInterfaceFilters, PAGING.networkInterfaces);
}

/** What a new ENI holds, planned and validated by its creator. */
export interface EniPlan {
  description: string;
  interfaceType: InterfaceType;
  groupIds: string[];
  primary: number;
  secondaries: number[];
  prefixes: number[];
  addresses6: bigint[];
  prefixes6: bigint[];
  tags: Tag[];
}

/** Creates an ENI record from planned addresses and takes them in the subnet. */
export function newEni(s: ModelState, subnetRecord: SubnetRecord, plan: EniPlan): NetworkInterface {
  const { subnet, pool } = subnetRecord;
  const eniId = s.ids.next("eni");
  const eni: NetworkInterface = {
    networkInterfaceId: eniId,
    ownerId: s.accountId,
    vpcId: subnet.vpcId,
    subnetId: subnet.subnetId,
    availabilityZone: subnet.availabilityZone,
    description: plan.description,
    interfaceType: plan.interfaceType,
    macAddress: s.ids.nextMac(),
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
    createdAt: new Date(s.clock.now()),
  };
  for (const a of [plan.primary, ...plan.secondaries]) pool.takeAddress(a, eniId);
  for (const base of plan.prefixes) pool.takePrefix(base, eniId);
  for (const a of plan.addresses6) pool.takeAddress6(a, eniId);
  for (const base of plan.prefixes6) pool.takePrefix6(base, eniId);
  s.enis.set(eniId, { seq: s.nextSeq(), eni });
  return eni;
}

/** Removes an (unattached) ENI and frees everything it held. */
export function deleteEni(s: ModelState, eni: NetworkInterface): void {
  const { pool } = s.subnetRecord(eni.subnetId);
  for (const p of eni.privateIps) pool.releaseAddress(parseIpv4(p.address) as number);
  for (const text of eni.ipv4Prefixes) pool.releasePrefix((parseCidr4(text) as Cidr4).network);
  for (const text of eni.ipv6Addresses) pool.releaseAddress6(parseIpv6(text) as bigint);
  for (const text of eni.ipv6Prefixes) pool.releasePrefix6((parseCidr6(text) as Cidr6).network);
  s.enis.delete(eni.networkInterfaceId);
  s.emit({ kind: "eni-deleted", eni: structuredClone(eni) });
}

function completeAttach(s: ModelState, eniId: string, attachmentId: string): void {
  const eni = s.enis.get(eniId)?.eni;
  // The instance may have been terminated (and the attachment dropped) while attaching.
  if (!eni?.attachment || eni.attachment.attachmentId !== attachmentId || eni.attachment.status !== "attaching") return;
  eni.attachment.status = "attached";
  s.emit({ kind: "eni-attached", eni: structuredClone(eni), instanceId: eni.attachment.instanceId, deviceIndex: eni.attachment.deviceIndex });
}

function completeDetach(s: ModelState, eniId: string, attachmentId: string): void {
  const eni = s.enis.get(eniId)?.eni;
  const attachment = eni?.attachment;
  if (!eni || !attachment || attachment.attachmentId !== attachmentId || attachment.status !== "detaching") return;
  s.attachments.delete(attachmentId);
  delete eni.attachment;
  eni.status = "available";
  s.emit({ kind: "eni-detached", eni: structuredClone(eni), instanceId: attachment.instanceId, deviceIndex: attachment.deviceIndex });
}

function checkDescription(description: string): void {
  if (description.length > MAX_DESCRIPTION_LENGTH) {
    throw invalidParameterValue(`Value for parameter description is invalid. Length exceeds maximum of ${MAX_DESCRIPTION_LENGTH} characters.`);
  }
}
