// Where a new ENI goes and with which security groups (reference §4.3 createENI's subnet choice, §6):
//   eniconfig  custom networking: the subnet and security groups of the node's ENIConfig (the primary
//              ENI's groups when it lists none). A missing ENIConfig, a subnet EC2 does not have, or
//              one in another zone or VPC than the node is refused with an event: no ENI is made.
//   tags       custom networking by tags (ours): the subnets of the node's zone tagged for pods, most
//              free addresses first, with the security groups tagged for pods (else the primary's).
//   discovery  ENABLE_SUBNET_DISCOVERY: the primary subnet and the subnets tagged for pods in the
//              node's zone, most free addresses first, with the tagged security groups (else the primary's).
//   primary    the primary ENI's subnet and groups, unless its subnet is tagged kubernetes.io/role/cni=0.
// Several candidates come back when several subnets qualify: the caller tries them in order. A subnet
// without room for the ENI is skipped while another has room.

import type { EniConfigChoice } from "../../k8s/eniconfig-name.ts";
import type { EniConfig } from "../../k8s/resources.ts";
import type { SecurityGroupInfo, SubnetInfo } from "../../aws/subnet-api.ts";
import { CNI_ROLE_TAG, discoverable, excludedForPods, taggedForPods, whyNotForPods } from "./tag-rules.ts";

export type PlacementMode = "eniconfig" | "tags" | "discovery" | "primary";

export function placementMode(eni: { customNetworking: boolean; customNetworkingByTags: boolean; subnetDiscovery: boolean }): PlacementMode {
  if (eni.customNetworking) return "eniconfig";
  if (eni.customNetworkingByTags) return "tags";
  return eni.subnetDiscovery ? "discovery" : "primary";
}

/** The node's own network: where ENIs go without a rule saying otherwise. */
export interface NodePlace {
  readonly vpcId: string;
  readonly availabilityZone: string;
  readonly subnetId: string;
  readonly subnetCidr: string;
  readonly securityGroupIds: readonly string[];
}

export interface EniConfigSource {
  /** The node's ENIConfig name and where it came from; null while the Node is unknown. */
  choice(): EniConfigChoice | null;
  /** Whether the ENIConfigs have been listed (a missing one before that may just be unseen). */
  synced(): boolean;
  get(name: string): EniConfig | undefined;
}

export interface PlacementEc2 {
  subnet(subnetId: string): Promise<SubnetInfo | undefined>;
  /** The VPC's subnets in the node's zone, most free addresses first. */
  zoneSubnets(): Promise<SubnetInfo[]>;
  /** The VPC's security groups carrying the kubernetes.io/role/cni tag. */
  taggedGroups(): Promise<SecurityGroupInfo[]>;
}

export interface Placement {
  readonly subnetId: string;
  readonly subnetCidr: string;
  readonly securityGroupIds: readonly string[];
  /** Why here, for the log ("ENIConfig us-east-1a (label topology.kubernetes.io/zone)", ...). */
  readonly why: string;
}

/** No ENI can be placed. `reason` is the event's reason (undefined: a passing state, no event). */
export class PlacementRefused extends Error {
  override readonly name = "PlacementRefused";
  readonly reason: string | undefined;
  constructor(reason: string | undefined, message: string) {
    super(message);
    this.reason = reason;
  }
}

export interface PlacementInput {
  readonly mode: PlacementMode;
  readonly node: NodePlace;
  /** CLUSTER_NAME ("" = unset), for the cluster-tag rule. */
  readonly clusterName: string;
  readonly ec2: PlacementEc2;
  readonly eniConfigs?: EniConfigSource | undefined;
  /** Addresses the new ENI takes from its subnet (its primary and the secondaries asked for). */
  readonly addressesWanted: number;
  readonly log?: (level: "info" | "warn", message: string) => void;
}

export async function placeNewEni(o: PlacementInput): Promise<Placement[]> {
  switch (o.mode) {
    case "eniconfig":
      return [await fromEniConfig(o)];
    case "tags":
      return fromTags(o);
    case "discovery":
      return fromDiscovery(o);
    case "primary":
      return [await primaryOnly(o)];
  }
}

async function fromEniConfig(o: PlacementInput): Promise<Placement> {
  const source = o.eniConfigs;
  if (source === undefined) throw new PlacementRefused(undefined, "custom networking needs the Kubernetes API (the node's ENIConfig), which is not configured");
  const choice = source.choice();
  if (choice === null) throw new PlacementRefused(undefined, "custom networking: the node's Node object has not been read yet, so its ENIConfig is not known; no ENI until it is");
  const config = source.get(choice.name);
  if (config === undefined) {
    if (!source.synced()) throw new PlacementRefused(undefined, `custom networking: the ENIConfigs have not been listed yet (looking for "${choice.name}")`);
    throw new PlacementRefused(
      "ENIConfigNotFound",
      `eniconfig: eniconfig is not available: no ENIConfig named "${choice.name}" (from the node's ${choice.from}); no new ENI for pods until it exists`,
    );
  }
  const what = `ENIConfig "${choice.name}" (from the node's ${choice.from})`;
  const subnetId = config.spec.subnet;
  const subnet = await o.ec2.subnet(subnetId);
  if (subnet === undefined) {
    throw new PlacementRefused("ENIConfigSubnetNotFound", `${what} names subnet ${subnetId}, which EC2 does not have (deleted?); no new ENI for pods until the ENIConfig names a subnet that exists`);
  }
  if (subnet.vpcId !== o.node.vpcId) {
    throw new PlacementRefused("ENIConfigVpcMismatch", `${what} names subnet ${subnetId} of ${subnet.vpcId}, but the node is in ${o.node.vpcId}; no new ENI for pods`);
  }
  if (subnet.availabilityZone !== o.node.availabilityZone) {
    throw new PlacementRefused(
      "ENIConfigZoneMismatch",
      `${what} names subnet ${subnetId} in ${subnet.availabilityZone}, but the node is in ${o.node.availabilityZone}: EC2 attaches ENIs only in the instance's zone; no new ENI for pods until the node uses an ENIConfig of its zone`,
    );
  }
  const groups = config.spec.securityGroups ?? [];
  return {
    subnetId,
    subnetCidr: subnet.cidrBlock,
    securityGroupIds: groups.length > 0 ? [...groups] : [...o.node.securityGroupIds],
    why: `${what}${groups.length > 0 ? "" : ", with the primary ENI's security groups (it lists none)"}`,
  };
}

async function fromTags(o: PlacementInput): Promise<Placement[]> {
  const subnets = (await o.ec2.zoneSubnets()).filter((s) => taggedForPods(s.tags, o.clusterName));
  if (subnets.length === 0) {
    throw new PlacementRefused(
      "NoPodSubnet",
      `custom networking by tags: no subnet of ${o.node.vpcId} in ${o.node.availabilityZone} is tagged ${CNI_ROLE_TAG} for pods${o.clusterName ? ` of cluster ${o.clusterName}` : ""}; no new ENI for pods until one is`,
    );
  }
  const groups = await podGroups(o);
  return withRoom(subnets, o).map((s) => ({ subnetId: s.subnetId, subnetCidr: s.cidrBlock, securityGroupIds: groups.ids, why: `subnet tagged ${CNI_ROLE_TAG} in ${o.node.availabilityZone} (${s.availableIpAddressCount} free), ${groups.why}` }));
}

async function fromDiscovery(o: PlacementInput): Promise<Placement[]> {
  let subnets: SubnetInfo[];
  try {
    subnets = await o.ec2.zoneSubnets();
  } catch (err) {
    // As the reference: without the subnet list, the primary subnet.
    o.log?.("warn", `subnet discovery: DescribeSubnets failed (${(err as Error).message}); using the primary subnet`);
    return [primary(o, "the primary subnet (subnet discovery could not list subnets)")];
  }
  const valid = subnets.filter((s) => discoverable(s.tags, s.subnetId === o.node.subnetId, o.clusterName));
  if (valid.length === 0) {
    const seen = subnets.map((s) => `${s.subnetId}: ${whyNotForPods(s.tags, s.subnetId === o.node.subnetId, o.clusterName)}`).join("; ");
    throw new PlacementRefused("NoPodSubnet", `subnet discovery: no subnet of ${o.node.vpcId} in ${o.node.availabilityZone} is for pods (${seen || "none listed"}); no new ENI`);
  }
  const groups = await podGroups(o);
  return withRoom(valid, o).map((s) => ({
    subnetId: s.subnetId,
    subnetCidr: s.cidrBlock,
    securityGroupIds: groups.ids,
    why: `subnet discovery: ${s.subnetId === o.node.subnetId ? "the primary subnet" : `subnet tagged ${CNI_ROLE_TAG}`} (${s.availableIpAddressCount} free), ${groups.why}`,
  }));
}

async function primaryOnly(o: PlacementInput): Promise<Placement> {
  const subnet = await o.ec2.subnet(o.node.subnetId).catch(() => undefined);
  if (subnet !== undefined && excludedForPods(subnet.tags, o.clusterName)) {
    throw new PlacementRefused("NoPodSubnet", `the primary subnet ${o.node.subnetId} is ${whyNotForPods(subnet.tags, true, o.clusterName)} and subnet discovery is off; no new ENI`);
  }
  return primary(o, "the primary subnet");
}

function primary(o: PlacementInput, why: string): Placement {
  return { subnetId: o.node.subnetId, subnetCidr: o.node.subnetCidr, securityGroupIds: [...o.node.securityGroupIds], why: `${why}, with the primary ENI's security groups` };
}

/** The subnets with room for the ENI, in their order; all of them when none has (EC2 then says so). */
function withRoom(subnets: SubnetInfo[], o: PlacementInput): SubnetInfo[] {
  const roomy = subnets.filter((s) => s.availableIpAddressCount >= o.addressesWanted);
  for (const s of subnets) if (!roomy.includes(s) && roomy.length > 0) o.log?.("info", `subnet ${s.subnetId} is skipped: ${s.availableIpAddressCount} free addresses, the ENI needs ${o.addressesWanted}`);
  return roomy.length > 0 ? roomy : subnets;
}

/** The security groups tagged for pods (sorted), else the primary ENI's. */
async function podGroups(o: PlacementInput): Promise<{ ids: string[]; why: string }> {
  try {
    const tagged = (await o.ec2.taggedGroups()).filter((g) => g.vpcId === o.node.vpcId && taggedForPods(g.tags, o.clusterName));
    if (tagged.length > 0) return { ids: tagged.map((g) => g.groupId).sort(), why: `security groups tagged ${CNI_ROLE_TAG}` };
  } catch (err) {
    o.log?.("warn", `security groups tagged ${CNI_ROLE_TAG} could not be listed (${(err as Error).message}); using the primary ENI's`);
  }
  return { ids: [...o.node.securityGroupIds], why: "the primary ENI's security groups" };
}
