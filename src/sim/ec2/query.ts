// EC2's Query protocol, request side: a form-encoded body (or query string) of flattened names
// (`Filter.1.Name`, `Filter.1.Value.1`, `TagSpecification.1.Tag.1.Key`, ...) turned into the typed
// inputs of Ec2Api. The wire names are the ones @aws-sdk/client-ec2 sends (ec2QueryName / xmlName
// traits in its schemas, confirmed by capturing its requests); they differ between actions for the
// same idea (CreateNetworkInterface sends `Ipv4Prefix.N.Ipv4Prefix`, AssignPrivateIpAddresses
// sends `Ipv4Prefix.N`), so every action is spelled out here rather than derived.
//
// Parameters we do not model (ClientToken, EnaSrdSpecification, IncludeManagedResources, ...) are
// ignored rather than rejected with UnknownParameter, so SDK calls that set them keep working.

import type {
  AssociateSubnetCidrBlockInput,
  AssociateVpcCidrBlockInput,
  AssignIpv6AddressesInput,
  AssignPrivateIpAddressesInput,
  AttachNetworkInterfaceInput,
  CreateNetworkInterfaceInput,
  CreateSecurityGroupInput,
  CreateSubnetInput,
  DescribeInput,
  ModifyNetworkInterfaceAttributeInput,
  RunInstanceInput,
  TagSpecification,
  UnassignIpv6AddressesInput,
  UnassignPrivateIpAddressesInput,
} from "./api.ts";
import type { Filter, InterfaceType, Tag } from "./types.ts";
import { Ec2Error } from "./types.ts";

/** The only API version EC2 has had since 2016, and the one every SDK sends. */
export const EC2_API_VERSION = "2016-11-15";

export const ACTIONS = [
  "CreateSubnet",
  "AssociateVpcCidrBlock",
  "AssociateSubnetCidrBlock",
  "DisassociateVpcCidrBlock",
  "DeleteSubnet",
  "CreateSecurityGroup",
  "DescribeInstances",
  "DescribeInstanceTypes",
  "DescribeVpcs",
  "DescribeSubnets",
  "DescribeSecurityGroups",
  "DescribeNetworkInterfaces",
  "CreateNetworkInterface",
  "AttachNetworkInterface",
  "DetachNetworkInterface",
  "DeleteNetworkInterface",
  "ModifyNetworkInterfaceAttribute",
  "AssignPrivateIpAddresses",
  "UnassignPrivateIpAddresses",
  "AssignIpv6Addresses",
  "UnassignIpv6Addresses",
  "CreateTags",
  "DeleteTags",
  "RunInstances",
  "TerminateInstances",
] as const;

export type Ec2Action = (typeof ACTIONS)[number];

const ACTION_SET: ReadonlySet<string> = new Set(ACTIONS);

export function isEc2Action(name: string): name is Ec2Action {
  return ACTION_SET.has(name);
}

/** One parsed request: the action and its typed input, as Ec2Api takes it. */
export type Ec2Request =
  | { action: "CreateSubnet"; input: CreateSubnetInput }
  | { action: "AssociateVpcCidrBlock"; input: AssociateVpcCidrBlockInput }
  | { action: "AssociateSubnetCidrBlock"; input: AssociateSubnetCidrBlockInput }
  | { action: "DisassociateVpcCidrBlock"; input: { associationId: string } }
  | { action: "DeleteSubnet"; input: { subnetId: string } }
  | { action: "CreateSecurityGroup"; input: CreateSecurityGroupInput }
  | { action: "DescribeInstances"; input: DescribeInput }
  | { action: "DescribeInstanceTypes"; input: DescribeInput }
  | { action: "DescribeVpcs"; input: DescribeInput }
  | { action: "DescribeSubnets"; input: DescribeInput }
  | { action: "DescribeSecurityGroups"; input: DescribeInput }
  | { action: "DescribeNetworkInterfaces"; input: DescribeInput }
  | { action: "CreateNetworkInterface"; input: CreateNetworkInterfaceInput }
  | { action: "AttachNetworkInterface"; input: AttachNetworkInterfaceInput }
  | { action: "DetachNetworkInterface"; input: { attachmentId: string; force?: boolean } }
  | { action: "DeleteNetworkInterface"; input: { networkInterfaceId: string } }
  | { action: "ModifyNetworkInterfaceAttribute"; input: ModifyNetworkInterfaceAttributeInput }
  | { action: "AssignPrivateIpAddresses"; input: AssignPrivateIpAddressesInput }
  | { action: "UnassignPrivateIpAddresses"; input: UnassignPrivateIpAddressesInput }
  | { action: "AssignIpv6Addresses"; input: AssignIpv6AddressesInput }
  | { action: "UnassignIpv6Addresses"; input: UnassignIpv6AddressesInput }
  | { action: "CreateTags"; input: { resourceIds: string[]; tags: Tag[] } }
  | { action: "DeleteTags"; input: { resourceIds: string[]; tags: { key: string; value?: string }[] } }
  | { action: "RunInstances"; input: RunInstanceInput }
  | { action: "TerminateInstances"; input: { instanceIds: string[] } };

function missing(name: string): Ec2Error {
  return new Ec2Error("MissingParameter", `The request must contain the parameter ${name}`);
}

function invalid(name: string, value: string, expected: string): Ec2Error {
  return new Ec2Error("InvalidParameterValue", `Value (${value}) for parameter ${name} is invalid. Expected: '${expected}'.`);
}

/**
 * Decodes `application/x-www-form-urlencoded` text. URLSearchParams never throws: malformed
 * percent escapes stay literal and bad UTF-8 becomes U+FFFD, so garbage yields junk names, which
 * then fail as a missing Action rather than as a crash. The first occurrence of a name wins.
 */
export function parseForm(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(text)) if (!out.has(k)) out.set(k, v);
  return out;
}

/** A view of the flattened parameters under one prefix ("" for the whole request). */
export class Params {
  readonly #map: ReadonlyMap<string, string>;
  readonly #prefix: string; // how the names of this view are spelled in the request, for errors

  constructor(map: ReadonlyMap<string, string>, prefix = "") {
    this.#map = map;
    this.#prefix = prefix;
  }

  /** The full wire name of `name` in this view. */
  wireName(name: string): string {
    return this.#prefix + name;
  }

  has(name: string): boolean {
    if (this.#map.has(name)) return true;
    const dotted = name + ".";
    for (const k of this.#map.keys()) if (k.startsWith(dotted)) return true;
    return false;
  }

  str(name: string): string | undefined {
    return this.#map.get(name);
  }

  req(name: string): string {
    const v = this.#map.get(name);
    if (v === undefined || v === "") throw missing(this.wireName(name));
    return v;
  }

  int(name: string): number | undefined {
    const v = this.#map.get(name);
    if (v === undefined) return undefined;
    const n = Number(v.trim());
    if (!/^\s*-?\d+\s*$/.test(v) || !Number.isSafeInteger(n)) throw invalid(this.wireName(name), v, "Integer");
    return n;
  }

  reqInt(name: string): number {
    const n = this.int(name);
    if (n === undefined) throw missing(this.wireName(name));
    return n;
  }

  bool(name: string): boolean | undefined {
    const v = this.#map.get(name);
    if (v === undefined) return undefined;
    const lower = v.trim().toLowerCase();
    if (lower === "true") return true;
    if (lower === "false") return false;
    throw invalid(this.wireName(name), v, "Boolean");
  }

  /** The sub-view of `name.` (a structure member such as `Attachment.AttachmentId`). */
  struct(name: string): Params | undefined {
    const dotted = name + ".";
    const sub = new Map<string, string>();
    for (const [k, v] of this.#map) if (k.startsWith(dotted)) sub.set(k.slice(dotted.length), v);
    return sub.size === 0 ? undefined : new Params(sub, this.wireName(dotted));
  }

  /** The members of the flattened list `name.N...`, in index order, each as a view of `name.N.`. */
  structList(name: string): Params[] {
    return this.#indexed(name).map(([index, sub]) => new Params(sub, this.wireName(`${name}.${index}.`)));
  }

  /** The values of the flattened list of strings `name.N`, in index order. */
  list(name: string): string[] {
    return this.#indexed(name).map(([index, sub]) => {
      const v = sub.get("");
      if (v === undefined) throw new Ec2Error("InvalidParameterValue", `Parameter ${this.wireName(`${name}.${index}`)} must be a string`);
      return v;
    });
  }

  /** Groups `name.N` and `name.N.rest` by N; N must be a positive decimal integer. */
  #indexed(name: string): [number, Map<string, string>][] {
    const dotted = name + ".";
    const groups = new Map<number, Map<string, string>>();
    for (const [k, v] of this.#map) {
      if (!k.startsWith(dotted)) continue;
      const rest = k.slice(dotted.length);
      const dot = rest.indexOf(".");
      const indexText = dot < 0 ? rest : rest.slice(0, dot);
      if (!/^[1-9]\d{0,8}$/.test(indexText)) {
        throw new Ec2Error("InvalidParameterValue", `Invalid list index '${indexText}' in parameter ${this.wireName(k)}`);
      }
      const index = Number(indexText);
      let group = groups.get(index);
      if (group === undefined) groups.set(index, (group = new Map()));
      group.set(dot < 0 ? "" : rest.slice(dot + 1), v);
    }
    return [...groups.entries()].sort((a, b) => a[0] - b[0]);
  }
}

/** Whether a Describe call narrows or pages its result (EC2 throttles the other kind harder). */
export function isFilteredOrPaged(params: ReadonlyMap<string, string>): boolean {
  for (const k of params.keys()) {
    if (k === "MaxResults" || k === "NextToken" || k.startsWith("Filter.")) return true;
    // Naming resources is a narrower request than a whole-account scan: count ids as a filter.
    if (/^(InstanceId|NetworkInterfaceId|GroupId|GroupName)\.\d+$/.test(k)) return true;
  }
  return false;
}

/** Reads `Action` and `Version`: the parts of a request that are checked before authentication. */
export function parseAction(params: ReadonlyMap<string, string>): Ec2Action {
  const action = params.get("Action");
  if (action === undefined || action === "") throw new Ec2Error("MissingAction", "The request must contain the parameter Action");
  if (!isEc2Action(action)) {
    throw new Ec2Error("InvalidAction", `The action ${action} is not valid for this web service.`);
  }
  const version = params.get("Version");
  if (version === undefined || version === "") throw missing("Version");
  if (version !== EC2_API_VERSION) {
    throw new Ec2Error("NoSuchVersion", `The requested version (${version}) of service AmazonEC2 does not exist`);
  }
  return action;
}

export function isDryRun(params: ReadonlyMap<string, string>): boolean {
  return new Params(params).bool("DryRun") === true;
}

function filters(p: Params): Filter[] | undefined {
  const list = p.structList("Filter").map((f) => ({ name: f.req("Name"), values: f.list("Value") }));
  return list.length === 0 ? undefined : list;
}

function describe(p: Params, idName: string): DescribeInput {
  const out: DescribeInput = {};
  const ids = p.list(idName);
  if (ids.length > 0) out.ids = ids;
  const f = filters(p);
  if (f !== undefined) out.filters = f;
  const maxResults = p.int("MaxResults");
  if (maxResults !== undefined) out.maxResults = maxResults;
  const nextToken = p.str("NextToken");
  if (nextToken !== undefined && nextToken !== "") out.nextToken = nextToken;
  return out;
}

function tags(p: Params, name: string): Tag[] {
  return p.structList(name).map((t) => ({ key: t.req("Key"), value: t.str("Value") ?? "" }));
}

function tagSpecifications(p: Params): TagSpecification[] {
  return p.structList("TagSpecification").map((s) => ({ resourceType: s.req("ResourceType"), tags: tags(s, "Tag") }));
}

const INTERFACE_TYPES: ReadonlySet<string> = new Set<InterfaceType>(["interface", "trunk", "branch", "efa"]);

/** Sets `out[key]` only when `value` is present, so inputs carry no explicit `undefined`s. */
function put<T extends object, K extends keyof T>(out: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) out[key] = value;
}

function nonEmpty<T>(list: T[]): T[] | undefined {
  return list.length === 0 ? undefined : list;
}

function createNetworkInterface(p: Params): CreateNetworkInterfaceInput {
  const out: CreateNetworkInterfaceInput = { subnetId: p.req("SubnetId") };
  put(out, "description", p.str("Description"));
  put(out, "groupIds", nonEmpty(p.list("SecurityGroupId")));
  put(out, "privateIpAddress", p.str("PrivateIpAddress"));
  put(
    out,
    "privateIpAddresses",
    nonEmpty(p.structList("PrivateIpAddresses").map((a) => ({ address: a.req("PrivateIpAddress"), primary: a.bool("Primary") ?? false }))),
  );
  put(out, "secondaryPrivateIpAddressCount", p.int("SecondaryPrivateIpAddressCount"));
  put(out, "ipv4PrefixCount", p.int("Ipv4PrefixCount"));
  put(out, "ipv4Prefixes", nonEmpty(p.structList("Ipv4Prefix").map((x) => x.req("Ipv4Prefix"))));
  put(out, "ipv6AddressCount", p.int("Ipv6AddressCount"));
  put(out, "ipv6Addresses", nonEmpty(p.structList("Ipv6Addresses").map((x) => x.req("Ipv6Address"))));
  put(out, "ipv6PrefixCount", p.int("Ipv6PrefixCount"));
  put(out, "ipv6Prefixes", nonEmpty(p.structList("Ipv6Prefix").map((x) => x.req("Ipv6Prefix"))));
  const type = p.str("InterfaceType");
  if (type !== undefined) {
    if (!INTERFACE_TYPES.has(type)) throw invalid("InterfaceType", type, [...INTERFACE_TYPES].join(" | "));
    out.interfaceType = type as InterfaceType;
  }
  put(out, "tagSpecifications", nonEmpty(tagSpecifications(p)));
  return out;
}

function modifyNetworkInterfaceAttribute(p: Params): ModifyNetworkInterfaceAttributeInput {
  const out: ModifyNetworkInterfaceAttributeInput = { networkInterfaceId: p.req("NetworkInterfaceId") };
  const attachment = p.struct("Attachment");
  if (attachment !== undefined) {
    const deleteOnTermination = attachment.bool("DeleteOnTermination");
    if (deleteOnTermination === undefined) throw missing(attachment.wireName("DeleteOnTermination"));
    out.attachment = { attachmentId: attachment.req("AttachmentId"), deleteOnTermination };
  }
  put(out, "groupIds", nonEmpty(p.list("SecurityGroupId")));
  const sourceDestCheck = p.struct("SourceDestCheck");
  if (sourceDestCheck !== undefined) {
    const value = sourceDestCheck.bool("Value");
    if (value === undefined) throw missing(sourceDestCheck.wireName("Value"));
    out.sourceDestCheck = value;
  }
  const description = p.struct("Description");
  if (description !== undefined) out.description = description.str("Value") ?? "";
  // EC2 changes one attribute per call.
  const given = ["attachment", "groupIds", "sourceDestCheck", "description"].filter((k) => k in out);
  if (given.length === 0) throw new Ec2Error("MissingParameter", "The request must contain one of the parameters Attachment, SecurityGroupId, SourceDestCheck or Description");
  if (given.length > 1) throw new Ec2Error("InvalidParameterCombination", "Fields for multiple attribute types specified: " + given.join(", "));
  return out;
}

function runInstances(p: Params): RunInstanceInput {
  const minCount = p.reqInt("MinCount");
  const maxCount = p.reqInt("MaxCount");
  if (minCount !== 1 || maxCount !== 1) {
    throw new Ec2Error("InvalidParameterValue", `vpcsim launches one instance per request: MinCount and MaxCount must be 1 (got ${minCount} and ${maxCount})`);
  }
  const nics = p.structList("NetworkInterface");
  if (nics.length > 1) throw new Ec2Error("InvalidParameterValue", "vpcsim launches instances with one network interface (NetworkInterface.1 only)");
  const nic = nics[0];
  if (nic !== undefined) {
    if (p.has("SubnetId")) {
      throw new Ec2Error("InvalidParameterCombination", "Network interfaces and an instance-level subnet ID may not be specified on the same request");
    }
    if (p.has("SecurityGroupId")) {
      throw new Ec2Error("InvalidParameterCombination", "Network interfaces and an instance-level security groups may not be specified on the same request");
    }
    if (p.has("PrivateIpAddress")) {
      throw new Ec2Error("InvalidParameterCombination", "Network interfaces and an instance-level private IP address should not be specified on the same request");
    }
    const deviceIndex = nic.int("DeviceIndex");
    if (deviceIndex !== undefined && deviceIndex !== 0) throw invalid(nic.wireName("DeviceIndex"), String(deviceIndex), "0");
  }
  const subnetId = nic?.str("SubnetId") ?? p.str("SubnetId");
  if (subnetId === undefined || subnetId === "") throw missing("SubnetId");
  const out: RunInstanceInput = { instanceType: p.req("InstanceType"), subnetId };
  put(out, "groupIds", nonEmpty((nic ?? p).list("SecurityGroupId")));
  put(out, "privateIpAddress", (nic ?? p).str("PrivateIpAddress"));
  if (nic !== undefined && (p.has("Ipv6AddressCount") || p.has("Ipv6Address"))) {
    throw new Ec2Error("InvalidParameterCombination", "Network interfaces and instance-level IPv6 addresses may not be specified on the same request");
  }
  // The instance-level list is `Ipv6Address.N.Ipv6Address`; a network interface's is `Ipv6Addresses.N.Ipv6Address`.
  put(out, "ipv6AddressCount", (nic ?? p).int("Ipv6AddressCount"));
  put(out, "ipv6Addresses", nonEmpty((nic ?? p).structList(nic ? "Ipv6Addresses" : "Ipv6Address").map((x) => x.req("Ipv6Address"))));
  put(out, "ipv6PrefixCount", nic?.int("Ipv6PrefixCount"));
  put(out, "ipv6Prefixes", nonEmpty(nic?.structList("Ipv6Prefix").map((x) => x.req("Ipv6Prefix")) ?? []));
  put(out, "associatePublicIp", nic?.bool("AssociatePublicIpAddress"));
  put(out, "imageId", p.str("ImageId"));
  const profile = p.struct("IamInstanceProfile");
  if (profile !== undefined) {
    // vpcsim names an instance profile after its role; an ARN's last path segment is the name.
    const name = profile.str("Name") ?? profile.str("Arn")?.split("/").pop();
    if (name === undefined || name === "") throw missing("IamInstanceProfile.Name");
    out.iamRoleName = name;
  }
  const instanceTags = tagSpecifications(p)
    .filter((s) => s.resourceType === "instance")
    .flatMap((s) => s.tags);
  put(out, "tags", nonEmpty(instanceTags));
  return out;
}

function createSubnet(p: Params): CreateSubnetInput {
  if (p.bool("Ipv6Native") === true) {
    throw new Ec2Error("InvalidParameterValue", "vpcsim does not model IPv6-only subnets: give the subnet an IPv4 CidrBlock (and an Ipv6CidrBlock for dual stack)");
  }
  const zone = p.str("AvailabilityZone");
  if (zone === undefined || zone === "") {
    throw new Ec2Error("MissingParameter", "The request must contain the parameter AvailabilityZone (vpcsim does not pick a zone, nor map AvailabilityZoneId)");
  }
  const out: CreateSubnetInput = { vpcId: p.req("VpcId"), cidrBlock: p.req("CidrBlock"), availabilityZone: zone };
  put(out, "ipv6CidrBlock", p.str("Ipv6CidrBlock"));
  const specs = tagSpecifications(p);
  const wrong = specs.find((s) => s.resourceType !== "subnet");
  if (wrong) throw new Ec2Error("InvalidParameterValue", `'${wrong.resourceType}' is not a valid taggable resource type for this operation.`);
  put(out, "tags", nonEmpty(specs.flatMap((s) => s.tags)));
  return out;
}

function associateVpcCidrBlock(p: Params): AssociateVpcCidrBlockInput {
  const out: AssociateVpcCidrBlockInput = { vpcId: p.req("VpcId") };
  put(out, "cidrBlock", p.str("CidrBlock"));
  put(out, "amazonProvidedIpv6CidrBlock", p.bool("AmazonProvidedIpv6CidrBlock"));
  put(out, "ipv6CidrBlockNetworkBorderGroup", p.str("Ipv6CidrBlockNetworkBorderGroup"));
  put(out, "ipv6Pool", p.str("Ipv6Pool"));
  for (const ipam of ["Ipv4IpamPoolId", "Ipv6IpamPoolId"]) {
    if (p.has(ipam)) throw new Ec2Error("InvalidParameterValue", `vpcsim has no IPAM pools (${ipam}); use CidrBlock or AmazonProvidedIpv6CidrBlock`);
  }
  return out;
}

function createSecurityGroup(p: Params): CreateSecurityGroupInput {
  const vpcId = p.str("VpcId");
  if (vpcId === undefined || vpcId === "") throw new Ec2Error("MissingParameter", "The request must contain the parameter VpcId (vpcsim has no default VPC)");
  const out: CreateSecurityGroupInput = { vpcId, groupName: p.req("GroupName"), description: p.req("GroupDescription") };
  const specs = tagSpecifications(p);
  const wrong = specs.find((s) => s.resourceType !== "security-group");
  if (wrong) throw new Ec2Error("InvalidParameterValue", `'${wrong.resourceType}' is not a valid taggable resource type for this operation.`);
  put(out, "tags", nonEmpty(specs.flatMap((s) => s.tags)));
  return out;
}

function associateSubnetCidrBlock(p: Params): AssociateSubnetCidrBlockInput {
  if (p.has("Ipv6IpamPoolId")) throw new Ec2Error("InvalidParameterValue", "vpcsim has no IPAM pools (Ipv6IpamPoolId); give Ipv6CidrBlock");
  return { subnetId: p.req("SubnetId"), ipv6CidrBlock: p.req("Ipv6CidrBlock") };
}

/** Parses the parameters of `action` into its typed input; throws Ec2Error for bad requests. */
export function parseInput(action: Ec2Action, params: ReadonlyMap<string, string>): Ec2Request {
  const p = new Params(params);
  switch (action) {
    case "CreateSubnet":
      return { action, input: createSubnet(p) };
    case "AssociateVpcCidrBlock":
      return { action, input: associateVpcCidrBlock(p) };
    case "AssociateSubnetCidrBlock":
      return { action, input: associateSubnetCidrBlock(p) };
    case "DisassociateVpcCidrBlock":
      return { action, input: { associationId: p.req("AssociationId") } };
    case "DeleteSubnet":
      return { action, input: { subnetId: p.req("SubnetId") } };
    case "CreateSecurityGroup":
      return { action, input: createSecurityGroup(p) };
    case "DescribeInstances":
      return { action, input: describe(p, "InstanceId") };
    case "DescribeInstanceTypes":
      return { action, input: describe(p, "InstanceType") };
    case "DescribeVpcs":
      return { action, input: describe(p, "VpcId") };
    case "DescribeSubnets":
      return { action, input: describe(p, "SubnetId") };
    case "DescribeSecurityGroups": {
      const input = describe(p, "GroupId");
      const names = p.list("GroupName");
      // Api takes ids only; EC2's group-name filter has the same meaning as GroupName.N.
      if (names.length > 0) input.filters = [...(input.filters ?? []), { name: "group-name", values: names }];
      return { action, input };
    }
    case "DescribeNetworkInterfaces":
      return { action, input: describe(p, "NetworkInterfaceId") };
    case "CreateNetworkInterface":
      return { action, input: createNetworkInterface(p) };
    case "AttachNetworkInterface": {
      const input: AttachNetworkInterfaceInput = {
        networkInterfaceId: p.req("NetworkInterfaceId"),
        instanceId: p.req("InstanceId"),
        deviceIndex: p.reqInt("DeviceIndex"),
      };
      put(input, "networkCardIndex", p.int("NetworkCardIndex"));
      return { action, input };
    }
    case "DetachNetworkInterface": {
      const input: { attachmentId: string; force?: boolean } = { attachmentId: p.req("AttachmentId") };
      put(input, "force", p.bool("Force"));
      return { action, input };
    }
    case "DeleteNetworkInterface":
      return { action, input: { networkInterfaceId: p.req("NetworkInterfaceId") } };
    case "ModifyNetworkInterfaceAttribute":
      return { action, input: modifyNetworkInterfaceAttribute(p) };
    case "AssignPrivateIpAddresses": {
      const input: AssignPrivateIpAddressesInput = { networkInterfaceId: p.req("NetworkInterfaceId") };
      put(input, "privateIpAddresses", nonEmpty(p.list("PrivateIpAddress")));
      put(input, "secondaryPrivateIpAddressCount", p.int("SecondaryPrivateIpAddressCount"));
      put(input, "ipv4PrefixCount", p.int("Ipv4PrefixCount"));
      put(input, "ipv4Prefixes", nonEmpty(p.list("Ipv4Prefix")));
      put(input, "allowReassignment", p.bool("AllowReassignment"));
      return { action, input };
    }
    case "UnassignPrivateIpAddresses": {
      const input: UnassignPrivateIpAddressesInput = { networkInterfaceId: p.req("NetworkInterfaceId") };
      put(input, "privateIpAddresses", nonEmpty(p.list("PrivateIpAddress")));
      put(input, "ipv4Prefixes", nonEmpty(p.list("Ipv4Prefix")));
      return { action, input };
    }
    case "AssignIpv6Addresses": {
      const input: AssignIpv6AddressesInput = { networkInterfaceId: p.req("NetworkInterfaceId") };
      put(input, "ipv6Addresses", nonEmpty(p.list("Ipv6Addresses")));
      put(input, "ipv6AddressCount", p.int("Ipv6AddressCount"));
      put(input, "ipv6Prefixes", nonEmpty(p.list("Ipv6Prefix")));
      put(input, "ipv6PrefixCount", p.int("Ipv6PrefixCount"));
      return { action, input };
    }
    case "UnassignIpv6Addresses": {
      const input: UnassignIpv6AddressesInput = { networkInterfaceId: p.req("NetworkInterfaceId") };
      put(input, "ipv6Addresses", nonEmpty(p.list("Ipv6Addresses")));
      put(input, "ipv6Prefixes", nonEmpty(p.list("Ipv6Prefix")));
      return { action, input };
    }
    case "CreateTags": {
      const resourceIds = p.list("ResourceId");
      if (resourceIds.length === 0) throw missing("ResourceId.1");
      const t = tags(p, "Tag");
      if (t.length === 0) throw missing("Tag.1.Key");
      return { action, input: { resourceIds, tags: t } };
    }
    case "DeleteTags": {
      const resourceIds = p.list("ResourceId");
      if (resourceIds.length === 0) throw missing("ResourceId.1");
      const t = p.structList("Tag").map((x) => {
        const tag: { key: string; value?: string } = { key: x.req("Key") };
        put(tag, "value", x.str("Value"));
        return tag;
      });
      return { action, input: { resourceIds, tags: t } };
    }
    case "RunInstances":
      return { action, input: runInstances(p) };
    case "TerminateInstances": {
      const instanceIds = p.list("InstanceId");
      if (instanceIds.length === 0) throw missing("InstanceId.1");
      return { action, input: { instanceIds } };
    }
  }
}
