// What an instance's metadata service shows, built from EC2 state as a tree of paths. IMDS is a
// directory tree: a directory lists its children one per line (sub-directories end in "/"), a leaf
// is text. The shapes follow EC2's documentation of the instance metadata categories.

import type { Ec2Api } from "../ec2/api.ts";
import type { Instance, NetworkInterface } from "../ec2/types.ts";

export type MetadataNode = string | { [name: string]: MetadataNode };

export interface InstanceDocument {
  accountId: string;
  region: string;
}

/** The tree under /latest/ for one instance, as EC2 has it now; undefined once it is gone. */
export function buildMetadataTree(api: Ec2Api, instanceId: string, account: InstanceDocument): MetadataNode | undefined {
  const instance = api.instance(instanceId);
  if (!instance || instance.state === "terminated" || instance.state === "shutting-down") return undefined;
  const enis = api.networkInterfaces().filter((e) => e.attachment?.instanceId === instanceId && e.attachment.status === "attached");
  const primary = enis.find((e) => e.networkInterfaceId === instance.primaryNetworkInterfaceId);
  if (!primary) return undefined;
  const primaryIp = primary.privateIps[0]?.address ?? "";
  const region = account.region;
  const hostname = privateDnsName(primaryIp, region);

  const macs: { [mac: string]: MetadataNode } = {};
  for (const eni of enis) macs[`${eni.macAddress}`] = interfaceTree(api, eni, instance, region);

  const metaData: { [name: string]: MetadataNode } = {
    "ami-id": instance.imageId,
    "ami-launch-index": "0",
    hostname,
    "instance-id": instance.instanceId,
    "instance-type": instance.instanceType,
    "instance-life-cycle": "on-demand",
    "local-hostname": hostname,
    "local-ipv4": primaryIp,
    mac: primary.macAddress,
    placement: {
      "availability-zone": instance.availabilityZone,
      "availability-zone-id": api.subnet(instance.subnetId)?.availabilityZoneId ?? "",
      region,
    },
    "security-groups": primary.groupIds.join("\n"),
    services: { domain: "amazonaws.com", partition: "aws" },
    network: { interfaces: { macs } },
    iam: {
      info: JSON.stringify(
        {
          Code: "Success",
          LastUpdated: instance.launchTime.toISOString(),
          InstanceProfileArn: `arn:aws:iam::${account.accountId}:instance-profile/${instance.iamRoleName}`,
          InstanceProfileId: "AIPA" + instance.instanceId.slice(2, 19).toUpperCase(),
        },
        null,
        2,
      ),
      // The role's credentials are served by the handler (they are minted per request), so the
      // tree only names the role.
      "security-credentials": { [instance.iamRoleName]: "" },
    },
  };
  // The instance's IPv6 address: its primary ENI's first one, if it has any (404 otherwise, which
  // is how the reference agent learns a node has none).
  const ipv6 = primary.ipv6Addresses[0];
  if (ipv6 !== undefined) metaData["ipv6"] = ipv6;
  if (instance.publicIpAddress) {
    metaData["public-ipv4"] = instance.publicIpAddress;
    metaData["public-hostname"] = `ec2-${instance.publicIpAddress.replaceAll(".", "-")}.compute-1.amazonaws.com`;
  }
  return {
    "meta-data": metaData,
    dynamic: {
      "instance-identity": {
        document: JSON.stringify(identityDocument(instance, primaryIp, account), null, 2),
      },
    },
  };
}

function interfaceTree(api: Ec2Api, eni: NetworkInterface, instance: Instance, region: string): MetadataNode {
  const subnet = api.subnet(eni.subnetId);
  const vpc = api.vpc(eni.vpcId);
  const node: { [name: string]: MetadataNode } = {
    "device-number": String(eni.attachment?.deviceIndex ?? 0),
    "interface-id": eni.networkInterfaceId,
    "local-hostname": privateDnsName(eni.privateIps[0]?.address ?? "", region),
    "local-ipv4s": eni.privateIps.map((p) => p.address).join("\n"),
    mac: eni.macAddress,
    "network-card": String(eni.attachment?.networkCardIndex ?? 0),
    "owner-id": eni.ownerId,
    "security-group-ids": eni.groupIds.join("\n"),
    "security-groups": eni.groupIds
      .map((id) => api.securityGroups().find((g) => g.groupId === id)?.groupName ?? id)
      .join("\n"),
    "subnet-id": eni.subnetId,
    "subnet-ipv4-cidr-block": subnet?.cidrBlock ?? "",
    "vpc-id": eni.vpcId,
    "vpc-ipv4-cidr-block": vpc?.cidrBlock ?? "",
    "vpc-ipv4-cidr-blocks": (vpc?.cidrBlocks ?? []).join("\n"),
  };
  // As on EC2, optional categories exist only when there is something in them; a 404 on them
  // means "none", which is how the reference agent reads them.
  if (eni.ipv4Prefixes.length > 0) node["ipv4-prefix"] = eni.ipv4Prefixes.join("\n");
  if (eni.ipv6Addresses.length > 0) node["ipv6s"] = eni.ipv6Addresses.join("\n");
  if (eni.ipv6Prefixes.length > 0) node["ipv6-prefix"] = eni.ipv6Prefixes.join("\n");
  if (subnet?.ipv6CidrBlock) node["subnet-ipv6-cidr-blocks"] = subnet.ipv6CidrBlock;
  if (vpc && vpc.ipv6CidrBlocks.length > 0) node["vpc-ipv6-cidr-blocks"] = vpc.ipv6CidrBlocks.join("\n");
  if (eni.networkInterfaceId === instance.primaryNetworkInterfaceId && instance.publicIpAddress) {
    node["public-ipv4s"] = instance.publicIpAddress;
  }
  return node;
}

function identityDocument(instance: Instance, privateIp: string, account: InstanceDocument) {
  return {
    accountId: account.accountId,
    architecture: "x86_64",
    availabilityZone: instance.availabilityZone,
    billingProducts: null,
    devpayProductCodes: null,
    marketplaceProductCodes: null,
    imageId: instance.imageId,
    instanceId: instance.instanceId,
    instanceType: instance.instanceType,
    kernelId: null,
    pendingTime: instance.launchTime.toISOString().replace(/\.\d{3}Z$/, "Z"),
    privateIp,
    ramdiskId: null,
    region: account.region,
    version: "2017-09-30",
  };
}

export function privateDnsName(ip: string, region: string): string {
  const domain = region === "us-east-1" ? "ec2.internal" : `${region}.compute.internal`;
  return `ip-${ip.replaceAll(".", "-")}.${domain}`;
}

/** Finds the node at a path below /latest/ ("meta-data/network/interfaces/macs/"). */
export function lookupMetadata(tree: MetadataNode, path: string): MetadataNode | undefined {
  let node: MetadataNode = tree;
  for (const part of path.split("/").filter((p) => p !== "")) {
    if (typeof node === "string") return undefined;
    // Own entries only: "constructor" or "__proto__" are not metadata paths.
    if (!Object.hasOwn(node, part)) return undefined;
    const next: MetadataNode | undefined = node[part];
    if (next === undefined) return undefined;
    node = next;
  }
  return node;
}

/** IMDS renders a directory as its children, one per line, directories with a trailing slash. */
export function renderMetadata(node: MetadataNode): string {
  if (typeof node === "string") return node;
  return Object.entries(node)
    .map(([name, child]) => (typeof child === "string" ? name : `${name}/`))
    .join("\n");
}
