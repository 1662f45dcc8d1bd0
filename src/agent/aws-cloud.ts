// The agent's cloud on AWS: node identity and ENIs from IMDS, the truth about them from EC2, and the
// pool's EC2 actions, all through src/aws (one request budget, the reference's retries). Where a new ENI
// goes (custom networking, subnet discovery, tags) is placement/'s decision; a refusal is reported (an
// event on the agent's pod) and no ENI is made.

import { customNetworkingOn, type AgentConfig } from "./config.ts";
import type { AgentCloud, Ec2EniView, EniView, NodeIdentity } from "./node-agent.ts";
import type { Log } from "../log/log.ts";
import { ReleaseUnconfirmedError, type CreatedEni } from "./pool-manager.ts";
import type { AddressRequest } from "./pool/index.ts";
import { DescribeNetworkInterfacesCommand, DescribeSubnetsCommand } from "@aws-sdk/client-ec2";
import { ec2Call, type Ec2 } from "../aws/ec2-client.ts";
import { routeTableId } from "../datapath/route-table.ts";
import type { Imds, ImdsEni } from "../aws/imds.ts";
import { describeSubnet, describeTaggedSecurityGroups, describeZoneSubnets } from "../aws/subnet-api.ts";
import { errorCode, isInsufficientAddresses, isPermanent } from "../aws/errors.ts";
import { placementMode, placeNewEni, PlacementRefused, type EniConfigSource, type Placement } from "./placement/eni-placement.ts";
import { CNI_ROLE_TAG, excludedForPods } from "./placement/tag-rules.ts";
import { allocEni, assignIpv6Prefixes, assignIps, assignPrefixes, deleteEni, describeEni, describeEnis, freeEni, listUnattachedEnisOf, tagEni, toEni, unassignIps, unassignPrefixes, type Ec2Eni } from "../aws/eni-api.ts";

export interface AwsCloudOptions {
  ec2: Ec2;
  imds: Imds;
  config: AgentConfig;
  log?: Log;
  /** The node's ENIConfig (custom networking); read at each ENI creation, as the reference does. */
  eniConfigs?: () => EniConfigSource | undefined;
  /** Why no ENI could be placed, for an event on the agent's pod. */
  reportPlacement?: (reason: string, message: string) => void;
}

export function makeAwsCloud(options: AwsCloudOptions): AgentCloud {
  const { ec2, imds, config } = options;
  let node: NodeIdentity | undefined;
  // Subnet CIDRs by subnet id, learnt from IMDS (EC2's ENI description does not carry them).
  const subnetCidrs = new Map<string, string>();

  const fromImds = (e: ImdsEni): EniView => {
    subnetCidrs.set(e.subnetId, e.subnetCidr);
    return {
      id: e.eniId,
      mac: e.mac,
      deviceNumber: e.deviceNumber,
      networkCard: e.networkCard,
      subnetId: e.subnetId,
      subnetCidr: e.subnetCidr,
      primaryIp: e.ipv4s[0] ?? "",
      secondaryIps: e.ipv4s.slice(1),
      prefixes: [...e.ipv4Prefixes],
    };
  };
  const fromEc2 = (e: Ec2Eni): Ec2EniView => ({
    id: e.eniId,
    mac: e.mac,
    deviceNumber: e.attachment?.deviceIndex ?? -1,
    networkCard: e.attachment?.networkCardIndex ?? 0,
    subnetId: e.subnetId,
    subnetCidr: subnetCidrs.get(e.subnetId) ?? "",
    primaryIp: e.privateIps[0] ?? "",
    secondaryIps: e.privateIps.slice(1),
    prefixes: [...e.ipv4Prefixes],
    interfaceType: e.interfaceType,
    tags: { ...e.tags },
    ...(e.attachment?.instanceId !== undefined && e.attachment.status !== "detaching" && e.attachment.status !== "detached" ? { attachedTo: e.attachment.instanceId } : {}),
  });
  // ENIs in a subnet IMDS has not shown yet (attached a moment ago, in another subnet): its CIDR
  // from DescribeSubnets, so the ENI can be set up now instead of skipped (and its pods dropped).
  const withSubnetCidrs = async (enis: Ec2Eni[]): Promise<Ec2EniView[]> => {
    const unknown = [...new Set(enis.map((e) => e.subnetId).filter((id) => id !== "" && !subnetCidrs.has(id)))];
    if (unknown.length > 0) {
      const out = await ec2Call(ec2, "GetVpcSubnets", new DescribeSubnetsCommand({ SubnetIds: unknown }));
      for (const s of out.Subnets ?? []) if (s.SubnetId && s.CidrBlock) subnetCidrs.set(s.SubnetId, s.CidrBlock);
    }
    return enis.map(fromEc2);
  };
  const placeEni = async (n: NodeIdentity, request: AddressRequest): Promise<Placement[]> => {
    try {
      return await placeNewEni({
        mode: placementMode(config.eni),
        node: { vpcId: n.vpcId, availabilityZone: n.availabilityZone, subnetId: n.subnetId, subnetCidr: n.subnetCidr, securityGroupIds: n.securityGroupIds },
        clusterName: config.eni.clusterName,
        ec2: {
          subnet: (id) => describeSubnet(ec2, id),
          zoneSubnets: () => describeZoneSubnets(ec2, n.vpcId, n.availabilityZone),
          taggedGroups: () => describeTaggedSecurityGroups(ec2, n.vpcId, CNI_ROLE_TAG),
        },
        eniConfigs: options.eniConfigs?.(),
        addressesWanted: 1 + (request.prefixCount !== undefined ? request.prefixCount * 16 : request.ipCount),
        log: (level, message) => options.log?.(level, message),
      });
    } catch (err) {
      if (err instanceof PlacementRefused && err.reason !== undefined) options.reportPlacement?.(err.reason, err.message);
      throw err;
    }
  };
  const identity = (): NodeIdentity => {
    if (!node) throw new Error("internal: the node's identity is read first");
    return node;
  };

  return {
    async identity() {
      const id = await imds.identity();
      const primary = await imds.eni(id.primaryMac, id.primaryMac);
      subnetCidrs.set(primary.subnetId, primary.subnetCidr);
      node = { ...id, subnetCidr: primary.subnetCidr, securityGroupIds: [...primary.securityGroupIds], vpcCidrs: [...primary.vpcIpv4Cidrs] };
      return node;
    },
    async imdsEnis() {
      return (await imds.enis(identity().primaryMac)).map(fromImds);
    },
    async ec2Enis(ids) {
      if (ids.length === 0) return [];
      return withSubnetCidrs((await describeEnis(ec2, ids)).enis);
    },
    async ec2AttachedEnis() {
      // A filtered describe (EC2's larger non-mutating bucket); an instance has at most a few dozen ENIs,
      // one page.
      const out = await ec2Call(ec2, "describeAttachedEnis", new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "attachment.instance-id", Values: [identity().instanceId] }] }));
      return withSubnetCidrs((out.NetworkInterfaces ?? []).map(toEni));
    },
    async subnetExcludedForPods(subnetId) {
      // As the reference's setupENI: one DescribeSubnets per ENI set up, with subnet discovery only.
      if (!config.eni.subnetDiscovery || customNetworkingOn(config.eni)) return false;
      const subnet = await describeSubnet(ec2, subnetId, "isSubnetExcluded").catch(() => undefined);
      return subnet !== undefined && excludedForPods(subnet.tags, config.eni.clusterName);
    },
    async tagEni(eniId, tags) {
      const current = await describeEni(ec2, eniId, "tagENI");
      if (current) await tagEni(ec2, eniId, current.tags, { ...current.tags, ...tags });
    },
    async ipv6Prefixes(eniId) {
      // EC2, not IMDS: after a restart IMDS may not show the prefix yet, and a second one must not be asked for.
      const eni = await describeEni(ec2, eniId, "GetIPv6PrefixesFromEC2");
      if (!eni) throw new Error(`EC2 does not know the primary ENI ${eniId}`);
      return eni.ipv6Prefixes;
    },
    async assignIpv6Prefix(eniId) {
      return assignIpv6Prefixes(ec2, eniId, 1);
    },
    async vpcIpv6Cidrs() {
      return (await imds.eniIpv6(identity().primaryMac)).vpcIpv6Cidrs;
    },
    async ec2UnattachedOwnEnis() {
      return (await listUnattachedEnisOf(ec2, identity().instanceId)).map((e) => e.eniId);
    },
    async deleteEni(eniId) {
      await deleteEni(ec2, eniId);
    },
    async assign(eniId: string, request: AddressRequest) {
      if (request.prefixCount !== undefined) return assignPrefixes(ec2, eniId, request.prefixCount);
      return (await assignIps(ec2, eniId, request.ipCount)).map((ip) => `${ip}/32`);
    },
    async createEni(request: AddressRequest): Promise<CreatedEni> {
      const n = identity();
      const places = await placeEni(n, request);
      for (const [i, place] of places.entries()) {
        let allocated;
        try {
          allocated = await allocEni(ec2, {
            instanceId: n.instanceId,
            subnetId: place.subnetId,
            securityGroupIds: place.securityGroupIds,
            clusterName: config.eni.clusterName || undefined,
            additionalTags: config.eni.additionalEniTags,
            ...(request.prefixCount !== undefined ? { prefixCount: request.prefixCount } : { secondaryIpCount: request.ipCount }),
          });
        } catch (err) {
          // Subnet discovery tries the next subnet when one has no room after all (reference §4.3).
          if (i < places.length - 1 && isInsufficientAddresses(errorCode(err))) {
            options.log?.("warn", `subnet ${place.subnetId} has no room for the ENI (${errorCode(err)}); trying ${places[i + 1]!.subnetId}`);
            continue;
          }
          // A security group of the ENIConfig that EC2 does not have: as clear as the other ENIConfig mistakes.
          if (placementMode(config.eni) === "eniconfig" && errorCode(err) === "InvalidGroup.NotFound") {
            options.reportPlacement?.("ENIConfigSecurityGroupNotFound", `${place.why} lists security groups EC2 does not have in ${n.vpcId} (${place.securityGroupIds.join(", ")}): ${(err as Error).message}; no new ENI for pods`);
          }
          throw err;
        }
        const eni = allocated.eni;
        subnetCidrs.set(place.subnetId, place.subnetCidr);
        options.log?.("info", `ENI ${eni.eniId} in ${place.subnetId} with ${place.securityGroupIds.join(",")}: ${place.why}`);
        return {
          eniId: eni.eniId,
          mac: eni.mac,
          deviceNumber: allocated.deviceIndex,
          routeTableId: routeTableId(allocated.deviceIndex),
          subnetId: eni.subnetId,
          subnetCidr: place.subnetCidr,
          primaryIp: eni.privateIps[0] ?? "",
          cidrs: [...eni.privateIps.slice(1).map((ip) => `${ip}/32`), ...eni.ipv4Prefixes],
        };
      }
      throw new Error("internal: no subnet to try");
    },
    async release(eniId, cidrs, prefixes) {
      const unassign = (which: readonly string[]) => (prefixes ? unassignPrefixes(ec2, eniId, which) : unassignIps(ec2, eniId, which.map((c) => c.replace(/\/32$/, ""))));
      try {
        await unassign(cidrs);
      } catch (err) {
        // A failed unassign may still have been carried out: one try's answer lost to a timeout, then
        // the retries throttled, or refused as "not assigned" (an address also gone behind the agent's
        // back). What EC2 still holds is the truth: had the pool taken the failure at its word, it would
        // serve addresses the ENI no longer has. If EC2 cannot be asked either, the pool keeps them out
        // of service until the reconciler sees what EC2 holds.
        if (isPermanent(errorCode(err))) throw err;
        let now: Ec2Eni | undefined;
        try {
          now = await describeEni(ec2, eniId, "deallocIPAddresses");
        } catch (describeErr) {
          throw new ReleaseUnconfirmedError(`${(err as Error).message}; and EC2 could not be asked what the ENI holds: ${(describeErr as Error).message}`, { cause: err });
        }
        if (!now) throw err;
        const held = new Set([...now.privateIps.slice(1).map((ip) => `${ip}/32`), ...now.ipv4Prefixes]);
        const still = cidrs.filter((c) => held.has(c));
        if (still.length === cidrs.length) throw err;
        if (still.length > 0) await unassign(still);
      }
    },
    async freeEni(eniId) {
      const result = await freeEni(ec2, eniId, { instanceId: identity().instanceId });
      if (result === "detached") {
        options.log?.("warn", `${eniId} is detached from the node but could not be deleted; ${config.eni.disableLeakedEniCleanup ? "leaked-ENI clean-up is disabled, so it stays until deleted by hand" : "leaked-ENI clean-up deletes it"}`);
      }
    },
    growthPausedUntil() {
      return ec2.budget.growthPausedUntil() ?? 0;
    },
  };
}
