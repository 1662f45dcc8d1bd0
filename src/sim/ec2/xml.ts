// EC2's Query protocol, response side: `<{Action}Response xmlns=...>` documents with EC2's member
// names (lowerCamel, lists as `<fooSet><item>..</item></fooSet>`), and EC2's error envelope. The
// names are the xmlName traits of @aws-sdk/client-ec2's output schemas, which is what the SDK reads.
// Values the model does not keep (association ids, DNS names, the instance's architecture, ...) are
// derived deterministically from what it does keep, so two describes of one thing agree.

import type {
  AssignIpv6AddressesOutput,
  AssignPrivateIpAddressesOutput,
  AttachmentResult,
  Ec2Api,
  SubnetCidrBlockResult,
  SubnetView,
  VpcCidrBlockResult,
} from "./api.ts";
import { derivedId } from "./ids.ts";
import type {
  Instance,
  InstanceState,
  InstanceTypeInfo,
  NetworkInterface,
  PageOf,
  SecurityGroup,
  SubnetIpv6CidrBlockAssociation,
  Tag,
  Vpc,
  VpcCidrBlockAssociation,
  VpcIpv6CidrBlockAssociation,
} from "./types.ts";

export const EC2_XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/";

/** A tree that maps 1:1 onto EC2's XML: arrays become `<item>` lists, undefined members vanish. */
export type XmlValue = string | number | boolean | Date | undefined | null | XmlValue[] | { [name: string]: XmlValue };

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/** Escapes text for element content, dropping characters XML 1.0 cannot carry at all. */
export function escapeXml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "")
    .replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

export function element(name: string, value: XmlValue): string {
  if (value === undefined || value === null) return "";
  if (Array.isArray(value)) {
    if (value.length === 0) return `<${name}/>`;
    return `<${name}>${value.map((v) => element("item", v)).join("")}</${name}>`;
  }
  if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`;
  if (typeof value === "object") {
    let inner = "";
    for (const [k, v] of Object.entries(value)) inner += element(k, v);
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** A success document: `<{action}Response>` with the request id first, as EC2 writes it. */
export function responseXml(action: string, requestId: string, body: Record<string, XmlValue>): string {
  let inner = element("requestId", requestId);
  for (const [k, v] of Object.entries(body)) inner += element(k, v);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_XMLNS}">${inner}</${action}Response>`;
}

/** EC2's error document (the SDK reads Errors.Error.Code/Message and RequestID). */
export function errorXml(code: string, message: string, requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code>` +
    `<Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${escapeXml(requestId)}</RequestID></Response>`
  );
}

/** What serialising needs to look up besides the object itself. */
export type XmlLookups = Pick<Ec2Api, "securityGroups" | "subnet" | "networkInterfaces" | "instanceTypeInfo">;

function regionOf(availabilityZone: string): string {
  return availabilityZone.replace(/[a-z]$/, "");
}

function privateDnsName(address: string, region: string): string {
  const host = "ip-" + address.replaceAll(".", "-");
  return region === "us-east-1" ? `${host}.ec2.internal` : `${host}.${region}.compute.internal`;
}

function publicDnsName(address: string, region: string): string {
  const host = "ec2-" + address.replaceAll(".", "-");
  return region === "us-east-1" ? `${host}.compute-1.amazonaws.com` : `${host}.${region}.compute.amazonaws.com`;
}

function tagSet(tags: Tag[]): XmlValue {
  return tags.map((t) => ({ key: t.key, value: t.value }));
}

const STATE_CODES: Record<InstanceState, number> = { pending: 0, running: 16, "shutting-down": 32, terminated: 48 };

export function instanceStateXml(state: InstanceState): XmlValue {
  return { code: STATE_CODES[state], name: state };
}

/** Per-response lookups built once, so serialising N objects does not scan the world N times. */
class Context {
  readonly #api: XmlLookups;
  #groupNames: Map<string, string> | undefined;
  #enisByInstance: Map<string, NetworkInterface[]> | undefined;

  constructor(api: XmlLookups) {
    this.#api = api;
  }

  groupName(groupId: string): string | undefined {
    this.#groupNames ??= new Map(this.#api.securityGroups().map((g) => [g.groupId, g.groupName]));
    return this.#groupNames.get(groupId);
  }

  groups(groupIds: string[]): XmlValue {
    return groupIds.map((groupId) => ({ groupId, groupName: this.groupName(groupId) }));
  }

  azId(subnetId: string): string | undefined {
    return this.#api.subnet(subnetId)?.availabilityZoneId;
  }

  enisOf(instanceId: string): NetworkInterface[] {
    if (this.#enisByInstance === undefined) {
      this.#enisByInstance = new Map();
      for (const eni of this.#api.networkInterfaces()) {
        const owner = eni.attachment?.instanceId;
        if (owner === undefined) continue;
        const list = this.#enisByInstance.get(owner) ?? [];
        list.push(eni);
        this.#enisByInstance.set(owner, list);
      }
      for (const list of this.#enisByInstance.values()) list.sort((a, b) => (a.attachment?.deviceIndex ?? 0) - (b.attachment?.deviceIndex ?? 0));
    }
    return this.#enisByInstance.get(instanceId) ?? [];
  }

  typeInfo(instanceType: string): InstanceTypeInfo | undefined {
    return this.#api.instanceTypeInfo(instanceType);
  }
}

/**
 * An ENI as DescribeNetworkInterfaces shows it. Inside an instance (DescribeInstances'
 * InstanceNetworkInterface) EC2 shows a subset of the same fields, with a shorter attachment: both
 * are built from one set of parts so they cannot drift apart.
 */
function eniXml(eni: NetworkInterface, ctx: Context): XmlValue {
  const parts = eniParts(eni, ctx);
  const a = eni.attachment;
  return {
    networkInterfaceId: eni.networkInterfaceId,
    subnetId: eni.subnetId,
    vpcId: eni.vpcId,
    availabilityZone: eni.availabilityZone,
    availabilityZoneId: ctx.azId(eni.subnetId),
    description: eni.description,
    ownerId: eni.ownerId,
    requesterId: eni.requesterManaged ? "AIDAVPCSIMREQUESTER" : undefined,
    requesterManaged: eni.requesterManaged,
    ...parts.identity,
    attachment:
      a === undefined
        ? undefined
        : { attachmentId: a.attachmentId, instanceId: a.instanceId, instanceOwnerId: a.instanceOwnerId, ...parts.attachment },
    ...parts.addresses,
    ipv6Native: false,
    interfaceType: eni.interfaceType,
  };
}

/** An ENI as it appears inside an instance (InstanceNetworkInterface). */
function instanceEniXml(eni: NetworkInterface, ctx: Context): XmlValue {
  const parts = eniParts(eni, ctx);
  return {
    networkInterfaceId: eni.networkInterfaceId,
    subnetId: eni.subnetId,
    vpcId: eni.vpcId,
    description: eni.description,
    ownerId: eni.ownerId,
    ...parts.identity,
    attachment: eni.attachment === undefined ? undefined : { attachmentId: eni.attachment.attachmentId, ...parts.attachment },
    ...parts.addresses,
    interfaceType: eni.interfaceType,
  };
}

function eniParts(eni: NetworkInterface, ctx: Context) {
  const region = regionOf(eni.availabilityZone);
  const primary = eni.privateIps.find((ip) => ip.primary) ?? eni.privateIps[0];
  const association =
    eni.publicIp === undefined
      ? undefined
      : { ipOwnerId: "amazon", publicDnsName: publicDnsName(eni.publicIp, region), publicIp: eni.publicIp };
  const a = eni.attachment;
  return {
    identity: {
      status: eni.status,
      macAddress: eni.macAddress,
      privateIpAddress: primary?.address,
      privateDnsName: primary === undefined ? undefined : privateDnsName(primary.address, region),
      sourceDestCheck: eni.sourceDestCheck,
      groupSet: ctx.groups(eni.groupIds),
    },
    attachment:
      a === undefined
        ? undefined
        : {
            deviceIndex: a.deviceIndex,
            networkCardIndex: a.networkCardIndex,
            status: a.status,
            attachTime: a.attachTime,
            deleteOnTermination: a.deleteOnTermination,
          },
    addresses: {
      association,
      tagSet: tagSet(eni.tags),
      privateIpAddressesSet: eni.privateIps.map((ip) => ({
        privateIpAddress: ip.address,
        privateDnsName: privateDnsName(ip.address, region),
        primary: ip.primary,
        association: ip.primary ? association : undefined,
      })),
      ipv4PrefixSet: eni.ipv4Prefixes.map((ipv4Prefix) => ({ ipv4Prefix })),
      ipv6AddressesSet: eni.ipv6Addresses.map((ipv6Address) => ({ ipv6Address, isPrimaryIpv6: false })),
      ipv6PrefixSet: eni.ipv6Prefixes.map((ipv6Prefix) => ({ ipv6Prefix })),
    },
  };
}

function instanceXml(i: Instance, ctx: Context): XmlValue {
  const region = regionOf(i.availabilityZone);
  const enis = ctx.enisOf(i.instanceId);
  const primaryEni = enis.find((e) => e.networkInterfaceId === i.primaryNetworkInterfaceId);
  const primaryIp = primaryEni?.privateIps.find((ip) => ip.primary)?.address;
  const type = ctx.typeInfo(i.instanceType);
  // Graviton families carry a "g" after the generation digit (m6g, c7gn, t4g); everything else is x86.
  const architecture = /^[a-z]+\d+g/.test(i.instanceType) ? "arm64" : "x86_64";
  const gone = i.state === "terminated";
  return {
    instanceId: i.instanceId,
    imageId: i.imageId,
    instanceState: instanceStateXml(i.state),
    privateDnsName: primaryIp === undefined ? "" : privateDnsName(primaryIp, region),
    dnsName: i.publicIpAddress === undefined ? "" : publicDnsName(i.publicIpAddress, region),
    reason: "",
    amiLaunchIndex: 0,
    productCodes: [],
    instanceType: i.instanceType,
    launchTime: i.launchTime,
    placement: { availabilityZone: i.availabilityZone, availabilityZoneId: ctx.azId(i.subnetId), groupName: "", tenancy: "default" },
    monitoring: { state: "disabled" },
    subnetId: gone ? undefined : i.subnetId,
    vpcId: gone ? undefined : i.vpcId,
    privateIpAddress: primaryIp,
    ipAddress: i.publicIpAddress,
    sourceDestCheck: primaryEni?.sourceDestCheck,
    groupSet: ctx.groups(primaryEni?.groupIds ?? []),
    architecture,
    rootDeviceType: "ebs",
    rootDeviceName: "/dev/xvda",
    blockDeviceMapping: [],
    virtualizationType: "hvm",
    clientToken: "",
    tagSet: tagSet(i.tags),
    hypervisor: type?.hypervisor === "nitro" || type?.hypervisor === "xen" ? "xen" : undefined, // EC2 reports "xen" for Nitro too
    networkInterfaceSet: enis.map((e) => instanceEniXml(e, ctx)),
    iamInstanceProfile:
      i.iamRoleName === ""
        ? undefined
        : { arn: `arn:aws:iam::${i.ownerId}:instance-profile/${i.iamRoleName}`, id: derivedId("AIPA", i.ownerId, i.iamRoleName).toUpperCase() },
    ebsOptimized: false,
    enaSupport: true,
    metadataOptions: { state: "applied", httpTokens: "optional", httpPutResponseHopLimit: 2, httpEndpoint: "enabled" },
    bootMode: "uefi-preferred",
    platformDetails: "Linux/UNIX",
    usageOperation: "RunInstances",
  };
}

function reservationXml(i: Instance, ctx: Context): XmlValue {
  return {
    reservationId: "r-" + i.instanceId.replace(/^i-/, ""),
    ownerId: i.ownerId,
    groupSet: [],
    instancesSet: [instanceXml(i, ctx)],
  };
}

function instanceTypeXml(t: InstanceTypeInfo): XmlValue {
  const otherCards = Math.max(t.networkCards - 1, 0);
  const perOtherCard = otherCards === 0 ? 0 : Math.floor((t.maxEnisAllCards - t.maxEnis) / otherCards);
  const cards: XmlValue[] = [];
  for (let index = 0; index < Math.max(t.networkCards, 1); index++) {
    cards.push({ networkCardIndex: index, maximumNetworkInterfaces: index === t.defaultNetworkCardIndex ? t.maxEnis : perOtherCard });
  }
  return {
    instanceType: t.instanceType,
    currentGeneration: true,
    bareMetal: t.bareMetal,
    hypervisor: t.hypervisor === "" ? undefined : t.hypervisor,
    supportedUsageClasses: ["on-demand", "spot"],
    supportedRootDeviceTypes: ["ebs"],
    supportedVirtualizationTypes: ["hvm"],
    processorInfo: { supportedArchitectures: [/^[a-z]+\d+g/.test(t.instanceType) ? "arm64" : "x86_64"] },
    networkInfo: {
      maximumNetworkInterfaces: t.maxEnisAllCards,
      maximumNetworkCards: t.networkCards,
      defaultNetworkCardIndex: t.defaultNetworkCardIndex,
      networkCards: cards,
      ipv4AddressesPerInterface: t.ipv4PerEni,
      ipv6AddressesPerInterface: t.ipv6PerEni,
      ipv6Supported: t.ipv6PerEni > 0,
      enaSupport: "required",
      efaSupported: false,
      encryptionInTransitSupported: false,
    },
  };
}

function vpcCidrAssociationXml(a: VpcCidrBlockAssociation): XmlValue {
  return { associationId: a.associationId, cidrBlock: a.cidrBlock, cidrBlockState: { state: a.state } };
}

function vpcIpv6AssociationXml(a: VpcIpv6CidrBlockAssociation): XmlValue {
  return {
    associationId: a.associationId,
    ipv6CidrBlock: a.ipv6CidrBlock,
    ipv6CidrBlockState: { state: a.state },
    networkBorderGroup: a.networkBorderGroup,
    ipv6Pool: a.ipv6Pool,
    ipSource: "amazon",
    ipv6AddressAttribute: "public",
  };
}

function subnetIpv6AssociationXml(a: SubnetIpv6CidrBlockAssociation): XmlValue {
  return {
    associationId: a.associationId,
    ipv6CidrBlock: a.ipv6CidrBlock,
    ipv6CidrBlockState: { state: a.state },
    ipSource: "amazon",
    ipv6AddressAttribute: "public",
  };
}

// A VPC or security group does not record its region; a vpcsim world lives in one region.
function vpcXml(v: Vpc): XmlValue {
  return {
    vpcId: v.vpcId,
    ownerId: v.ownerId,
    state: "available",
    cidrBlock: v.cidrBlock,
    cidrBlockAssociationSet: v.cidrBlockAssociations.map(vpcCidrAssociationXml),
    ipv6CidrBlockAssociationSet: v.ipv6CidrBlockAssociations.length === 0 ? undefined : v.ipv6CidrBlockAssociations.map(vpcIpv6AssociationXml),
    dhcpOptionsId: derivedId("dopt-", v.ownerId),
    instanceTenancy: "default",
    isDefault: false,
    tagSet: tagSet(v.tags),
  };
}

function subnetXml(s: SubnetView): XmlValue {
  const region = regionOf(s.availabilityZone);
  return {
    subnetId: s.subnetId,
    subnetArn: `arn:aws:ec2:${region}:${s.ownerId}:subnet/${s.subnetId}`,
    state: "available",
    vpcId: s.vpcId,
    ownerId: s.ownerId,
    cidrBlock: s.cidrBlock,
    ipv6CidrBlockAssociationSet: s.ipv6CidrBlockAssociations.map(subnetIpv6AssociationXml),
    availableIpAddressCount: s.availableIpAddressCount,
    availabilityZone: s.availabilityZone,
    availabilityZoneId: s.availabilityZoneId,
    defaultForAz: false,
    mapPublicIpOnLaunch: false,
    mapCustomerOwnedIpOnLaunch: false,
    assignIpv6AddressOnCreation: false,
    ipv6Native: false,
    tagSet: tagSet(s.tags),
    privateDnsNameOptionsOnLaunch: { hostnameType: "ip-name" },
  };
}

function securityGroupXml(g: SecurityGroup, region: string): XmlValue {
  return {
    ownerId: g.ownerId,
    groupId: g.groupId,
    groupName: g.groupName,
    groupDescription: g.description,
    vpcId: g.vpcId,
    securityGroupArn: `arn:aws:ec2:${region}:${g.ownerId}:security-group/${g.groupId}`,
    ipPermissions: [],
    // EC2 gives every new group one egress rule allowing everything; vpcsim does not model rules.
    ipPermissionsEgress: [{ ipProtocol: "-1", groups: [], ipRanges: [{ cidrIp: "0.0.0.0/0" }], ipv6Ranges: [], prefixListIds: [] }],
    tagSet: tagSet(g.tags),
  };
}

function paged<T>(page: PageOf<T>, setName: string, each: (item: T) => XmlValue): Record<string, XmlValue> {
  return { [setName]: page.items.map(each), nextToken: page.nextToken };
}

/** Response bodies, one per action, from the Ec2Api results. */
export class ResponseWriter {
  readonly #ctx: Context;
  readonly #region: string;

  constructor(api: XmlLookups, region = "us-east-1") {
    this.#ctx = new Context(api);
    this.#region = region;
  }

  describeInstances(page: PageOf<Instance>): Record<string, XmlValue> {
    return paged(page, "reservationSet", (i) => reservationXml(i, this.#ctx));
  }
  describeInstanceTypes(page: PageOf<InstanceTypeInfo>): Record<string, XmlValue> {
    return paged(page, "instanceTypeSet", instanceTypeXml);
  }
  describeVpcs(page: PageOf<Vpc>): Record<string, XmlValue> {
    return paged(page, "vpcSet", vpcXml);
  }
  describeSubnets(page: PageOf<SubnetView>): Record<string, XmlValue> {
    return paged(page, "subnetSet", subnetXml);
  }
  describeSecurityGroups(page: PageOf<SecurityGroup>): Record<string, XmlValue> {
    return paged(page, "securityGroupInfo", (g) => securityGroupXml(g, this.#region));
  }
  describeNetworkInterfaces(page: PageOf<NetworkInterface>): Record<string, XmlValue> {
    return paged(page, "networkInterfaceSet", (e) => eniXml(e, this.#ctx));
  }
  createSubnet(subnet: SubnetView): Record<string, XmlValue> {
    return { subnet: subnetXml(subnet) };
  }
  associateVpcCidrBlock(out: VpcCidrBlockResult): Record<string, XmlValue> {
    return {
      cidrBlockAssociation: out.cidrBlockAssociation && vpcCidrAssociationXml(out.cidrBlockAssociation),
      ipv6CidrBlockAssociation: out.ipv6CidrBlockAssociation && vpcIpv6AssociationXml(out.ipv6CidrBlockAssociation),
      vpcId: out.vpcId,
    };
  }
  createSecurityGroup(g: SecurityGroup): Record<string, XmlValue> {
    return { groupId: g.groupId, securityGroupArn: `arn:aws:ec2:${this.#region}:${g.ownerId}:security-group/${g.groupId}`, tagSet: tagSet(g.tags) };
  }
  associateSubnetCidrBlock(out: SubnetCidrBlockResult): Record<string, XmlValue> {
    return { ipv6CidrBlockAssociation: subnetIpv6AssociationXml(out.ipv6CidrBlockAssociation), subnetId: out.subnetId };
  }
  networkInterface(eni: NetworkInterface): Record<string, XmlValue> {
    return { networkInterface: eniXml(eni, this.#ctx) };
  }
  attach(result: AttachmentResult): Record<string, XmlValue> {
    return { attachmentId: result.attachmentId, networkCardIndex: result.networkCardIndex };
  }
  assignPrivate(out: AssignPrivateIpAddressesOutput): Record<string, XmlValue> {
    return {
      networkInterfaceId: out.networkInterfaceId,
      assignedPrivateIpAddressesSet: out.assignedPrivateIpAddresses.map((privateIpAddress) => ({ privateIpAddress })),
      assignedIpv4PrefixSet: out.assignedIpv4Prefixes.map((ipv4Prefix) => ({ ipv4Prefix })),
      return: true,
    };
  }
  assignIpv6(out: AssignIpv6AddressesOutput): Record<string, XmlValue> {
    return {
      networkInterfaceId: out.networkInterfaceId,
      assignedIpv6Addresses: out.assignedIpv6Addresses,
      assignedIpv6PrefixSet: out.assignedIpv6Prefixes,
    };
  }
  unassignIpv6(networkInterfaceId: string, addresses: string[], prefixes: string[]): Record<string, XmlValue> {
    return { networkInterfaceId, unassignedIpv6Addresses: addresses, unassignedIpv6PrefixSet: prefixes };
  }
  runInstances(i: Instance): Record<string, XmlValue> {
    return reservationXml(i, this.#ctx) as Record<string, XmlValue>;
  }
  terminateInstances(changes: { instanceId: string; previous: InstanceState; current: InstanceState }[]): Record<string, XmlValue> {
    return {
      instancesSet: changes.map((c) => ({
        instanceId: c.instanceId,
        currentState: instanceStateXml(c.current),
        previousState: instanceStateXml(c.previous),
      })),
    };
  }
  /** The body of actions whose only result is success. */
  ok(): Record<string, XmlValue> {
    return { return: true };
  }
}
