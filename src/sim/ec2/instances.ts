// Instances: launch with a primary ENI attached at device index 0 (with IPv6 addresses or prefixes,
// and a public IPv4 address, if asked), termination (every ENI leaves; DeleteOnTermination ones
// are deleted), DescribeInstances and DescribeInstanceTypes.

import type { DescribeInput, RunInstanceInput } from "./api.ts";
import { Ec2Error, type Instance, type InstanceTypeInfo, type PageOf } from "./types.ts";
import { insufficientFreeAddresses, invalidParameterValue, ipv6LimitExceeded, malformed, notFound } from "./errors.ts";
import { isWellFormedId } from "./ids.ts";
import { formatIpv4, parseIpv4 } from "../ipv4.ts";
import { checkIpv6Combination, checkPrefixDelegation, explicitAddress, pickAddresses, planAddresses6, planPrefixes6 } from "./address-plans.ts";
import type { SubnetPool } from "./subnet-pool.ts";
import { instanceFilters, instanceTypeFilters, PAGING } from "./describe-specs.ts";
import { filterAndPage, selectByIds } from "./describe.ts";
import { checkPageParameters } from "./paging.ts";
import { checkNewTags } from "./tags.ts";
import { resolveGroups } from "./security-groups.ts";
import { deleteEni, newEni } from "./network-interfaces.ts";
import type { ModelState } from "./model-state.ts";

/** Public IPv4 addresses (TEST-NET-2) handed to instances that ask for one. */
const PUBLIC_POOL_BASE = parseIpv4("198.51.100.0") as number;
const DEFAULT_IAM_ROLE = "vpcsim-node-role";

export function runInstance(s: ModelState, input: RunInstanceInput): Instance {
  const type = s.instanceTypes.get(input.instanceType);
  if (!type) throw invalidParameterValue(`The instance type '${input.instanceType}' does not exist`);
  const subnetRecord = s.subnetRecord(input.subnetId);
  const { subnet, pool } = subnetRecord;
  const groupIds = resolveGroups(s, input.groupIds, subnet.vpcId);
  const tags = input.tags ?? [];
  checkNewTags(tags);
  if (input.imageId !== undefined && !isWellFormedId("ami", input.imageId)) throw malformed("ami", input.imageId);

  let primary: number;
  if (input.privateIpAddress !== undefined) {
    primary = explicitAddress(pool, input.privateIpAddress, new Set(), "create");
    if (pool.available < 1) throw insufficientFreeAddresses();
  } else {
    primary = pickAddresses(pool, 1)[0] as number;
  }
  const { addresses6, prefixes6 } = planPrimaryIpv6(input, subnetRecord.pool, type);
  const publicIp = input.associatePublicIp ? pickPublicIp(s) : undefined;

  // Commit.
  const instanceId = s.ids.next("i");
  const launchTime = new Date(s.clock.now());
  const eni = newEni(s, subnetRecord, {
    description: "",
    interfaceType: "interface",
    groupIds,
    primary,
    secondaries: [],
    prefixes: [],
    addresses6,
    prefixes6,
    tags: [],
  });
  if (publicIp !== undefined) {
    s.publicIps.add(publicIp);
    eni.publicIp = formatIpv4(publicIp);
  }
  const attachmentId = s.ids.next("eni-attach");
  eni.status = "in-use";
  eni.attachment = {
    attachmentId,
    instanceId,
    instanceOwnerId: s.accountId,
    deviceIndex: 0,
    networkCardIndex: type.defaultNetworkCardIndex,
    status: "attached",
    attachTime: launchTime,
    deleteOnTermination: true,
  };
  s.attachments.set(attachmentId, eni.networkInterfaceId);
  const instance: Instance = {
    instanceId,
    instanceType: type.instanceType,
    imageId: input.imageId ?? s.defaultImageId,
    ownerId: s.accountId,
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
  s.instances.set(instanceId, { seq: s.nextSeq(), instance });
  s.emit({ kind: "instance-launched", instance: structuredClone(instance) });
  s.emit({ kind: "eni-attached", eni: structuredClone(eni), instanceId, deviceIndex: 0 });
  return structuredClone(instance);
}

export function terminateInstance(s: ModelState, instanceId: string): Instance {
  const record = s.instanceRecord(instanceId);
  const instance = record.instance;
  if (instance.state === "terminated") return structuredClone(instance);

  // Every ENI still on the instance leaves it now: deleted if DeleteOnTermination, else freed.
  for (const { eni } of [...s.enis.values()]) {
    const attachment = eni.attachment;
    if (!attachment || attachment.instanceId !== instanceId) continue;
    s.attachments.delete(attachment.attachmentId);
    delete eni.attachment;
    eni.status = "available";
    if (eni.publicIp !== undefined) {
      s.publicIps.delete(parseIpv4(eni.publicIp) as number);
      delete eni.publicIp;
    }
    // Followers only saw the device if its attach completed; an in-flight attach just vanishes.
    if (attachment.status !== "attaching") {
      s.emit({ kind: "eni-detached", eni: structuredClone(eni), instanceId, deviceIndex: attachment.deviceIndex });
    }
    if (attachment.deleteOnTermination) deleteEni(s, eni);
  }
  instance.state = "terminated";
  delete instance.publicIpAddress;
  s.emit({ kind: "instance-terminated", instance: structuredClone(instance) });
  return structuredClone(instance);
}

export function describeInstances(s: ModelState, input: DescribeInput): PageOf<Instance> {
  const records = selectByIds(input, PAGING.instances, "i", s.instances, (ids) => {
    if (ids.length === 1) return notFound("i", ids[0] as string);
    return new Ec2Error("InvalidInstanceID.NotFound", `The instance IDs '${ids.join(", ")}' do not exist`);
  });
  const spec = instanceFilters((instance) => s.enisOfInstance(instance.instanceId));
  return filterAndPage(records, (r) => r.instance, input, spec, PAGING.instances);
}

export function describeInstanceTypes(s: ModelState, input: DescribeInput): PageOf<InstanceTypeInfo> {
  checkPageParameters(input, PAGING.instanceTypes, false);
  const all = [...s.instanceTypes.values()].map((info, seq) => ({ seq, info }));
  let selected = all;
  if (input.ids && input.ids.length > 0) {
    const wanted = new Set(input.ids);
    const missing = input.ids.filter((id) => !s.instanceTypes.has(id));
    if (missing.length > 0) {
      throw new Ec2Error("InvalidInstanceType", `The following supplied instance types do not exist: [${missing.join(", ")}]`);
    }
    selected = all.filter((r) => wanted.has(r.info.instanceType));
  }
  return filterAndPage(selected, (r) => r.info, input, instanceTypeFilters, PAGING.instanceTypes);
}

/** The primary ENI's IPv6 addresses or /80 prefixes (Ipv6AddressCount, Ipv6Addresses, ...). */
function planPrimaryIpv6(input: RunInstanceInput, pool: SubnetPool, type: InstanceTypeInfo): { addresses6: bigint[]; prefixes6: bigint[] } {
  const addresses = (input.ipv6AddressCount ?? 0) + (input.ipv6Addresses?.length ?? 0);
  const prefixes = (input.ipv6PrefixCount ?? 0) + (input.ipv6Prefixes?.length ?? 0);
  if (addresses > 0 && prefixes > 0) {
    // RunInstances' own wording and code for this one (CreateNetworkInterface's differs).
    throw invalidParameterValue("You can and can only specify one of ipv6-addresses or ipv6-addresses-count  ipv6-prefix and ipv6-prefix-count.");
  }
  if (!checkIpv6Combination(input)) return { addresses6: [], prefixes6: [] };
  if (!pool.cidr6) throw invalidParameterValue(`The subnet '${input.subnetId}' does not have an IPv6 CIDR block.`);
  if (addresses + prefixes > type.ipv6PerEni) throw ipv6LimitExceeded();
  if (prefixes > 0) checkPrefixDelegation(type);
  return {
    addresses6: planAddresses6(pool, input.ipv6AddressCount, input.ipv6Addresses, "create"),
    prefixes6: planPrefixes6(pool, input.ipv6PrefixCount, input.ipv6Prefixes),
  };
}

function pickPublicIp(s: ModelState): number {
  const free: number[] = [];
  for (let host = 1; host <= 254; host++) {
    if (!s.publicIps.has(PUBLIC_POOL_BASE + host)) free.push(PUBLIC_POOL_BASE + host);
  }
  if (free.length === 0) throw new Ec2Error("AddressLimitExceeded", "The maximum number of addresses has been reached.");
  return free[Math.floor(s.random() * free.length)] as number;
}
