// The ENI operations of the node agent, with the reference's EC2 actions, parameters, retries and
// backoffs (reference §4.1, §4.3, §4.4). Every function takes the Ec2 context (client, budget,
// observer, clock) as its first parameter and fails with an AwsApiError carrying EC2's code.

import {
  AssignIpv6AddressesCommand,
  AssignPrivateIpAddressesCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  CreateTagsCommand,
  DeleteNetworkInterfaceCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DetachNetworkInterfaceCommand,
  ModifyNetworkInterfaceAttributeCommand,
  UnassignPrivateIpAddressesCommand,
  type Filter,
  type NetworkInterface,
} from "@aws-sdk/client-ec2";
import { randomUUID } from "node:crypto";
import { DELETE_BACKOFF, DETACH_BACKOFF, TAG_BACKOFF, withBackoff } from "./backoff.ts";
import { ec2Call, type Ec2 } from "./ec2-client.ts";
import { asAwsError, AwsApiError, CODES, errorCode, isNotFound, isPermanent } from "./errors.ts";
import { ENI_DESCRIPTION_PREFIX, eniDescription, eniTags, fromSdkTags, missingTags, rfc3339, TAG_CLUSTER_NAME, TAG_CREATED_AT, TAG_INSTANCE_ID, toSdkTags } from "./eni-tags.ts";

export interface EniAttachment {
  attachmentId: string;
  instanceId: string | undefined;
  deviceIndex: number;
  networkCardIndex: number;
  deleteOnTermination: boolean;
  status: string; // attaching | attached | detaching | detached
}

/** An ENI as EC2 describes it. */
export interface Ec2Eni {
  eniId: string;
  mac: string;
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  description: string;
  status: string; // available | in-use | attaching | detaching ...
  interfaceType: string; // interface | trunk | efa | efa-only | branch ...
  attachment: EniAttachment | undefined;
  privateIps: string[]; // primary first
  ipv4Prefixes: string[];
  /** IPv6 /80 prefixes, in EC2's order. */
  ipv6Prefixes: string[];
  securityGroupIds: string[];
  tags: Record<string, string>;
}

export function toEni(n: NetworkInterface): Ec2Eni {
  const ips = [...(n.PrivateIpAddresses ?? [])].sort((a, b) => Number(b.Primary ?? false) - Number(a.Primary ?? false));
  const a = n.Attachment;
  return {
    eniId: n.NetworkInterfaceId ?? "",
    mac: n.MacAddress ?? "",
    subnetId: n.SubnetId ?? "",
    vpcId: n.VpcId ?? "",
    availabilityZone: n.AvailabilityZone ?? "",
    description: n.Description ?? "",
    status: n.Status ?? "",
    interfaceType: n.InterfaceType ?? "interface",
    attachment:
      a?.AttachmentId === undefined
        ? undefined
        : {
            attachmentId: a.AttachmentId,
            instanceId: a.InstanceId,
            deviceIndex: a.DeviceIndex ?? 0,
            networkCardIndex: a.NetworkCardIndex ?? 0,
            deleteOnTermination: a.DeleteOnTermination ?? false,
            status: a.Status ?? "",
          },
    privateIps: ips.map((p) => p.PrivateIpAddress ?? "").filter((p) => p !== ""),
    ipv4Prefixes: (n.Ipv4Prefixes ?? []).map((p) => p.Ipv4Prefix ?? "").filter((p) => p !== ""),
    ipv6Prefixes: (n.Ipv6Prefixes ?? []).map((p) => p.Ipv6Prefix ?? "").filter((p) => p !== ""),
    securityGroupIds: (n.Groups ?? []).map((g) => g.GroupId ?? "").filter((g) => g !== ""),
    tags: fromSdkTags(n.TagSet),
  };
}

// ---------------------------------------------------------------------------------------------
// Describe

/** The id in "The networkInterface ID 'eni-123' does not exist" (the reference's regex). */
export function notFoundId(message: string): string | undefined {
  return /'([a-zA-Z0-9-]+)'/.exec(message)?.[1];
}

/**
 * Describes the node's ENIs by id (reference DescribeAllENIs): an id EC2 no longer knows is dropped
 * (and reported in `missing`) and the rest asked again; other failures are retried. 12 tries.
 */
export async function describeEnis(ec2: Ec2, eniIds: readonly string[]): Promise<{ enis: Ec2Eni[]; missing: string[] }> {
  const fn = "describeAllEnis";
  let ids = [...new Set(eniIds)];
  const missing: string[] = [];
  for (let attempt = 1; ; attempt++) {
    if (ids.length === 0) return { enis: [], missing };
    try {
      const out = await ec2Call(ec2, fn, new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ids }));
      return { enis: (out.NetworkInterfaces ?? []).map(toEni), missing };
    } catch (err) {
      const e = asAwsError(err, fn, "DescribeNetworkInterfaces");
      if (attempt >= 12 || isPermanent(e.code)) throw e;
      if (e.code === "InvalidNetworkInterfaceID.NotFound") {
        const bad = notFoundId(e.message);
        if (bad !== undefined && ids.includes(bad)) {
          ids = ids.filter((id) => id !== bad);
          missing.push(bad);
          continue;
        }
      }
      await ec2.clock.sleep(attempt * 10 + 100 * attempt * (ec2.random ?? Math.random)());
    }
  }
}

/**
 * One ENI, or undefined when EC2 does not know it. Asked with a network-interface-id filter rather
 * than by id: a filtered describe draws from EC2's larger non-mutating bucket, and an unknown ENI is
 * an empty answer instead of an error.
 */
export async function describeEni(ec2: Ec2, eniId: string, fn = "describeEni"): Promise<Ec2Eni | undefined> {
  try {
    const out = await ec2Call(ec2, fn, new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "network-interface-id", Values: [eniId] }] }));
    const n = out.NetworkInterfaces?.[0];
    return n === undefined ? undefined : toEni(n);
  } catch (err) {
    if (isNotFound(errorCode(err))) return undefined;
    throw asAwsError(err, fn, "DescribeNetworkInterfaces");
  }
}

// ---------------------------------------------------------------------------------------------
// Create, attach, allocate

export interface CreateEniOptions {
  instanceId: string;
  subnetId: string;
  /** The primary ENI's security groups (sorted here, as the reference does). */
  securityGroupIds: readonly string[];
  clusterName?: string | undefined;
  additionalTags?: Readonly<Record<string, string>> | undefined;
  /** Secondary addresses to ask for with the ENI (SecondaryPrivateIpAddressCount). */
  secondaryIpCount?: number;
  /** /28 prefixes to ask for with the ENI (Ipv4PrefixCount, prefix delegation); wins over secondaryIpCount. */
  prefixCount?: number;
}

export async function createEni(ec2: Ec2, opts: CreateEniOptions): Promise<Ec2Eni> {
  const fn = "createEni";
  const tags = eniTags({ instanceId: opts.instanceId, clusterName: opts.clusterName, additionalTags: opts.additionalTags, createdAtMs: ec2.clock.now() });
  const counts =
    opts.prefixCount !== undefined && opts.prefixCount > 0
      ? { Ipv4PrefixCount: opts.prefixCount }
      : opts.secondaryIpCount !== undefined && opts.secondaryIpCount > 0
        ? { SecondaryPrivateIpAddressCount: opts.secondaryIpCount }
        : {};
  const out = await ec2Call(
    ec2,
    fn,
    new CreateNetworkInterfaceCommand({
      Description: eniDescription(opts.instanceId),
      SubnetId: opts.subnetId,
      Groups: [...opts.securityGroupIds].sort(),
      TagSpecifications: [{ ResourceType: "network-interface", Tags: toSdkTags(tags) }],
      // Our own retries re-send this request: the token makes EC2 create one ENI, not one per try.
      ClientToken: randomUUID(),
      ...counts,
    }),
  );
  if (out.NetworkInterface === undefined) throw new AwsApiError({ code: CODES.unknown, api: "CreateNetworkInterface", fn, message: `${fn}: EC2 answered without a network interface` });
  return toEni(out.NetworkInterface);
}

/** The lowest device index (0..99) not in use on `networkCard` of the instance, from DescribeInstances. */
export async function freeDeviceIndex(ec2: Ec2, instanceId: string, networkCard = 0): Promise<number> {
  const fn = "getFreeDeviceNumber";
  const out = await ec2Call(ec2, fn, new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const instance = out.Reservations?.[0]?.Instances?.[0];
  if (instance === undefined) throw new AwsApiError({ code: "InvalidInstanceID.NotFound", api: "DescribeInstances", fn, message: `${fn}: instance ${instanceId} not found` });
  const used = new Set<number>();
  for (const n of instance.NetworkInterfaces ?? []) {
    const a = n.Attachment;
    if (a?.DeviceIndex !== undefined && (a.NetworkCardIndex ?? 0) === networkCard) used.add(a.DeviceIndex);
  }
  for (let i = 0; i < 100; i++) if (!used.has(i)) return i;
  throw new AwsApiError({ code: CODES.noFreeDeviceIndex, api: "DescribeInstances", fn, message: `${fn}: no free device index on network card ${networkCard} of ${instanceId}` });
}

export interface Attached {
  attachmentId: string;
  deviceIndex: number;
}

/**
 * Attaches at the lowest free device index. Another attach can take that index between our
 * DescribeInstances and our attach; EC2 then refuses and we look again (3 tries).
 */
export async function attachEni(ec2: Ec2, opts: { instanceId: string; eniId: string; networkCard?: number }): Promise<Attached> {
  const fn = "attachEni";
  const card = opts.networkCard ?? 0;
  for (let attempt = 1; ; attempt++) {
    const deviceIndex = await freeDeviceIndex(ec2, opts.instanceId, card);
    try {
      const out = await ec2Call(
        ec2,
        fn,
        new AttachNetworkInterfaceCommand({ DeviceIndex: deviceIndex, InstanceId: opts.instanceId, NetworkInterfaceId: opts.eniId, NetworkCardIndex: card }),
      );
      if (out.AttachmentId === undefined) throw new AwsApiError({ code: CODES.unknown, api: "AttachNetworkInterface", fn, message: `${fn}: EC2 answered without an attachment id` });
      return { attachmentId: out.AttachmentId, deviceIndex };
    } catch (err) {
      const e = asAwsError(err, fn, "AttachNetworkInterface");
      const indexTaken = e.code === "InvalidParameterValue" && /device index/i.test(e.message);
      if (!indexTaken || attempt >= 3) throw e;
    }
  }
}

/** RefreshSGIDs: the ENI's security groups (sorted, as at creation). */
export async function setEniSecurityGroups(ec2: Ec2, eniId: string, groupIds: readonly string[]): Promise<void> {
  await ec2Call(ec2, "refreshSGIDs", new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Groups: [...groupIds].sort() }));
}

export async function setDeleteOnTermination(ec2: Ec2, eniId: string, attachmentId: string): Promise<void> {
  await ec2Call(
    ec2,
    "setDeleteOnTermination",
    new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Attachment: { AttachmentId: attachmentId, DeleteOnTermination: true } }),
  );
}

export interface AllocatedEni {
  eni: Ec2Eni; // as created (before the attachment)
  attachmentId: string;
  deviceIndex: number;
}

/**
 * Creates an ENI, attaches it at the lowest free device index and sets DeleteOnTermination, so a
 * terminated node takes its ENIs with it. On attach failure the new ENI is deleted; on modify
 * failure it is freed (detached and deleted). The original error is thrown either way.
 */
export async function allocEni(ec2: Ec2, opts: CreateEniOptions & { networkCard?: number }): Promise<AllocatedEni> {
  const fn = "allocEni";
  const eni = await createEni(ec2, opts).catch((err: unknown) => {
    throw asAwsError(err, fn);
  });
  let attached: Attached;
  try {
    attached = await attachEni(ec2, { instanceId: opts.instanceId, eniId: eni.eniId, networkCard: opts.networkCard ?? 0 });
  } catch (err) {
    // The attach may have reached EC2 although its answer did not (a timeout, a dropped connection):
    // an ENI that EC2 shows attached to this instance is kept, not deleted (which would fail for
    // minutes against an attached ENI).
    const seen = await describeEni(ec2, eni.eniId, fn).catch(() => undefined);
    const a = seen?.attachment;
    if (a !== undefined && a.instanceId === opts.instanceId && (a.status === "attaching" || a.status === "attached")) {
      attached = { attachmentId: a.attachmentId, deviceIndex: a.deviceIndex };
    } else {
      // If this delete fails too, the ENI is tagged and available: leaked-ENI clean-up takes it later.
      await deleteEni(ec2, eni.eniId).catch(() => undefined);
      throw asAwsError(err, fn);
    }
  }
  try {
    await setDeleteOnTermination(ec2, eni.eniId, attached.attachmentId);
  } catch (err) {
    await freeEni(ec2, eni.eniId).catch(() => undefined);
    throw asAwsError(err, fn);
  }
  return { eni, ...attached };
}

// ---------------------------------------------------------------------------------------------
// Addresses and prefixes

/** Asks EC2 for `count` more secondary addresses on the ENI; returns them. count < 1 makes no call. */
export async function assignIps(ec2: Ec2, eniId: string, count: number): Promise<string[]> {
  if (!(count >= 1)) return [];
  const out = await ec2Call(ec2, "allocIPAddresses", new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, SecondaryPrivateIpAddressCount: count }));
  return (out.AssignedPrivateIpAddresses ?? []).map((a) => a.PrivateIpAddress ?? "").filter((a) => a !== "");
}

/** Asks EC2 for `count` more /28 prefixes on the ENI; returns them. count < 1 makes no call. */
export async function assignPrefixes(ec2: Ec2, eniId: string, count: number): Promise<string[]> {
  if (!(count >= 1)) return [];
  const out = await ec2Call(ec2, "allocIPv4Prefixes", new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, Ipv4PrefixCount: count }));
  return (out.AssignedIpv4Prefixes ?? []).map((a) => a.Ipv4Prefix ?? "").filter((a) => a !== "");
}

/** Asks EC2 for `count` /80 prefixes on the ENI (reference AllocIPv6Prefixes: Ipv6PrefixCount=1); returns them. */
export async function assignIpv6Prefixes(ec2: Ec2, eniId: string, count: number): Promise<string[]> {
  if (!(count >= 1)) return [];
  const out = await ec2Call(ec2, "allocIPv6Prefixes", new AssignIpv6AddressesCommand({ NetworkInterfaceId: eniId, Ipv6PrefixCount: count }));
  return (out.AssignedIpv6Prefixes ?? []).filter((p) => p !== "");
}

export async function unassignIps(ec2: Ec2, eniId: string, ips: readonly string[]): Promise<void> {
  if (ips.length === 0) return;
  await ec2Call(ec2, "deallocIPAddresses", new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, PrivateIpAddresses: [...ips] }));
}

export async function unassignPrefixes(ec2: Ec2, eniId: string, prefixes: readonly string[]): Promise<void> {
  if (prefixes.length === 0) return;
  await ec2Call(ec2, "deallocPrefixAddresses", new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, Ipv4Prefixes: [...prefixes] }));
}

// ---------------------------------------------------------------------------------------------
// Free and delete

export interface FreeEniOptions {
  /** Refuse to detach the ENI from any other instance (a guard against freeing a neighbour's ENI). */
  instanceId?: string;
  /** How long to wait for the detached ENI to become available. Default 60 s. */
  detachWaitMs?: number;
}

/**
 * Frees an ENI: finds its attachment, detaches it (retried with the reference's backoff), waits
 * until EC2 shows it available (polling instead of the reference's blind 2 s sleep), and deletes it
 * (retried). An ENI EC2 no longer knows counts as freed: "gone". An ENI that was detached but could
 * not be deleted is "detached" (not an error: it is off the node; leaked-ENI clean-up deletes it).
 */
export async function freeEni(ec2: Ec2, eniId: string, opts: FreeEniOptions = {}): Promise<"freed" | "gone" | "detached"> {
  const fn = "freeEni";
  const eni = await describeEni(ec2, eniId, fn);
  if (eni === undefined) return "gone";
  if (opts.instanceId !== undefined && eni.attachment?.instanceId !== undefined && eni.attachment.instanceId !== opts.instanceId) {
    throw new AwsApiError({ code: "InvalidInstanceID", api: "", fn, message: `${fn}: ${eniId} is attached to ${eni.attachment.instanceId}, not to ${opts.instanceId}` });
  }
  if (eni.attachment !== undefined && eni.attachment.status !== "detached") {
    if (eni.attachment.deviceIndex === 0) throw new AwsApiError({ code: "OperationNotPermitted", api: "", fn, message: `${fn}: ${eniId} is a primary ENI (device index 0)` });
    const attachmentId = eni.attachment.attachmentId;
    const detached = await withBackoff(DETACH_BACKOFF, { clock: ec2.clock, random: ec2.random, retryable: (e) => !isPermanent(errorCode(e)) }, async () => {
      try {
        await ec2Call(ec2, fn, new DetachNetworkInterfaceCommand({ AttachmentId: attachmentId }));
        return true;
      } catch (err) {
        // The attachment (or the ENI) is gone: someone detached it already.
        if (isNotFound(errorCode(err))) return errorCode(err) !== "InvalidNetworkInterfaceID.NotFound";
        throw err;
      }
    }).catch((err: unknown) => {
      throw asAwsError(err, fn, "DetachNetworkInterface");
    });
    if (!detached) return "gone";
    // Detached: the ENI is no longer the node's, whatever happens next. A failure to see it available
    // or to delete it must not be reported as "still attached" (the caller would serve its addresses
    // again): it is "detached", tagged and soon available, and leaked-ENI clean-up deletes it.
    try {
      const ready = await waitUntilAvailable(ec2, eniId, opts.detachWaitMs ?? 60_000);
      if (ready === "gone") return "gone";
      return (await deleteEni(ec2, eniId)) === "deleted" ? "freed" : "gone";
    } catch {
      return "detached";
    }
  }
  return (await deleteEni(ec2, eniId)) === "deleted" ? "freed" : "gone";
}

async function waitUntilAvailable(ec2: Ec2, eniId: string, timeoutMs: number): Promise<"available" | "gone"> {
  const deadline = ec2.clock.now() + timeoutMs;
  let delay = 250;
  for (;;) {
    const eni = await describeEni(ec2, eniId, "freeEni");
    if (eni === undefined) return "gone";
    if (eni.status === "available") return "available";
    if (ec2.clock.now() + delay > deadline) {
      throw new AwsApiError({ code: CODES.detachTimeout, api: "DescribeNetworkInterfaces", fn: "freeEni", message: `freeEni: ${eniId} still '${eni.status}' ${timeoutMs} ms after detach` });
    }
    await ec2.clock.sleep(delay);
    delay = Math.min(2_000, delay * 1.5);
  }
}

/** Deletes an available ENI, retried with the reference's backoff; NotFound counts as done ("gone"). */
export async function deleteEni(ec2: Ec2, eniId: string): Promise<"deleted" | "gone"> {
  const fn = "deleteEni";
  try {
    return await withBackoff(DELETE_BACKOFF, { clock: ec2.clock, random: ec2.random, retryable: (e) => !isPermanent(errorCode(e)) }, async () => {
      try {
        await ec2Call(ec2, fn, new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eniId }));
        return "deleted" as const;
      } catch (err) {
        if (errorCode(err) === "InvalidNetworkInterfaceID.NotFound") return "gone" as const;
        throw err;
      }
    });
  } catch (err) {
    throw asAwsError(err, fn, "DeleteNetworkInterface");
  }
}

// ---------------------------------------------------------------------------------------------
// Tags

/** Writes the tags of `wanted` that `current` lacks or has with another value (5 tries); returns what it wrote. */
export async function tagEni(ec2: Ec2, eniId: string, current: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>>): Promise<Record<string, string>> {
  const fn = "tagENI";
  const missing = missingTags(current, wanted);
  if (Object.keys(missing).length === 0) return missing;
  try {
    await withBackoff(TAG_BACKOFF, { clock: ec2.clock, random: ec2.random, retryable: (e) => !isPermanent(errorCode(e)) && !isNotFound(errorCode(e)) }, () =>
      ec2Call(ec2, fn, new CreateTagsCommand({ Resources: [eniId], Tags: toSdkTags(missing) })),
    );
  } catch (err) {
    throw asAwsError(err, fn, "CreateTags");
  }
  return missing;
}

// ---------------------------------------------------------------------------------------------
// Leaked ENIs

export const LEAKED_ENI_GRACE_MS = 5 * 60_000;

export interface LeakedEniScan {
  /** Available, tagged by an agent, older than the grace: safe to delete. */
  leaked: Ec2Eni[];
  /** Had no (or an unparsable) createdAt tag: tagged now, considered next run. */
  taggedNow: string[];
  /** Younger than the grace: possibly being attached by their node right now. */
  young: string[];
}

/** The reference's leaked-ENI filters (reference §4.1 (3)). */
export function leakedEniFilters(vpcId: string, clusterName?: string): Filter[] {
  const filters: Filter[] = [
    { Name: "tag-key", Values: [TAG_INSTANCE_ID] },
    { Name: "status", Values: ["available"] },
    { Name: "vpc-id", Values: [vpcId] },
  ];
  if (clusterName) filters.push({ Name: `tag:${TAG_CLUSTER_NAME}`, Values: [clusterName] });
  return filters;
}

/**
 * Lists leaked ENIs: available, agent-tagged ENIs of the VPC (and cluster) whose description starts
 * with aws-K8S-, paged by 1000. One without a valid createdAt tag gets one now and is skipped; one
 * younger than the 5-minute grace is skipped, since its node may be attaching it this moment.
 */
export async function listLeakedEnis(ec2: Ec2, opts: { vpcId: string; clusterName?: string | undefined; graceMs?: number }): Promise<LeakedEniScan> {
  const fn = "getLeakedENIs";
  const grace = opts.graceMs ?? LEAKED_ENI_GRACE_MS;
  const scan: LeakedEniScan = { leaked: [], taggedNow: [], young: [] };
  const filters = leakedEniFilters(opts.vpcId, opts.clusterName);
  let token: string | undefined;
  do {
    const out = await ec2Call(ec2, fn, new DescribeNetworkInterfacesCommand({ Filters: filters, MaxResults: 1000, ...(token === undefined ? {} : { NextToken: token }) }));
    for (const n of out.NetworkInterfaces ?? []) {
      const eni = toEni(n);
      if (!eni.description.startsWith(ENI_DESCRIPTION_PREFIX)) continue;
      const created = parseCreatedAt(eni.tags[TAG_CREATED_AT]);
      if (created === undefined) {
        try {
          await tagEni(ec2, eni.eniId, eni.tags, { [TAG_CREATED_AT]: rfc3339(ec2.clock.now()) });
          scan.taggedNow.push(eni.eniId);
        } catch (err) {
          // Deleted in the meantime (by another node's clean-up): nothing left to do about it.
          if (!isNotFound(errorCode(err))) throw asAwsError(err, fn);
        }
        continue;
      }
      if (ec2.clock.now() - created < grace) scan.young.push(eni.eniId);
      else scan.leaked.push(eni);
    }
    token = out.NextToken || undefined;
  } while (token !== undefined);
  return scan;
}

/**
 * ENIs this instance's agent created and never attached (or detached and could not delete): available,
 * tagged with its instance id and described as the agent's. A kill -9 between CreateNetworkInterface
 * and AttachNetworkInterface leaves one; only this node's agent creates ENIs with its id, and while it
 * starts (its state directory locked) none of them is being attached.
 */
export async function listUnattachedEnisOf(ec2: Ec2, instanceId: string): Promise<Ec2Eni[]> {
  const found: Ec2Eni[] = [];
  let token: string | undefined;
  do {
    const out = await ec2Call(
      ec2,
      "getUnattachedENIs",
      new DescribeNetworkInterfacesCommand({
        Filters: [
          { Name: `tag:${TAG_INSTANCE_ID}`, Values: [instanceId] },
          { Name: "status", Values: ["available"] },
        ],
        MaxResults: 1000,
        ...(token === undefined ? {} : { NextToken: token }),
      }),
    );
    for (const n of out.NetworkInterfaces ?? []) {
      const eni = toEni(n);
      if (eni.description === eniDescription(instanceId) && eni.attachment === undefined) found.push(eni);
    }
    token = out.NextToken || undefined;
  } while (token !== undefined);
  return found;
}

/** Lists leaked ENIs and deletes them; returns the ids deleted (or found already gone). */
export async function cleanUpLeakedEnis(ec2: Ec2, opts: { vpcId: string; clusterName?: string | undefined; graceMs?: number }): Promise<{ deleted: string[]; scan: LeakedEniScan; failed: { eniId: string; code: string }[] }> {
  const scan = await listLeakedEnis(ec2, opts);
  const deleted: string[] = [];
  const failed: { eniId: string; code: string }[] = [];
  for (const eni of scan.leaked) {
    try {
      await deleteEni(ec2, eni.eniId);
      deleted.push(eni.eniId);
    } catch (err) {
      failed.push({ eniId: eni.eniId, code: errorCode(err) });
    }
  }
  return { deleted, scan, failed };
}

function parseCreatedAt(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}
