// The agent's cloud on AWS: node identity and ENIs from IMDS, the truth about them from EC2, and the
// pool's EC2 actions, all through src/aws (one request budget, the reference's retries).

import type { AgentConfig } from "./config.ts";
import type { AgentCloud, Ec2EniView, EniView, NodeIdentity } from "./node-agent.ts";
import type { Log } from "../log/log.ts";
import type { CreatedEni } from "./pool-manager.ts";
import type { AddressRequest } from "./pool/index.ts";
import { DescribeNetworkInterfacesCommand, DescribeSubnetsCommand } from "@aws-sdk/client-ec2";
import { ec2Call, type Ec2 } from "../aws/ec2-client.ts";
import { routeTableId } from "../datapath/route-table.ts";
import type { Imds, ImdsEni } from "../aws/imds.ts";
import { allocEni, assignIps, assignPrefixes, describeEni, describeEnis, freeEni, tagEni, toEni, unassignIps, unassignPrefixes, type Ec2Eni } from "../aws/eni-api.ts";

export function makeAwsCloud(options: { ec2: Ec2; imds: Imds; config: AgentConfig; log?: Log }): AgentCloud {
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
    async tagEni(eniId, tags) {
      const current = await describeEni(ec2, eniId, "tagENI");
      if (current) await tagEni(ec2, eniId, current.tags, { ...current.tags, ...tags });
    },
    async assign(eniId: string, request: AddressRequest) {
      if (request.prefixCount !== undefined) return assignPrefixes(ec2, eniId, request.prefixCount);
      return (await assignIps(ec2, eniId, request.ipCount)).map((ip) => `${ip}/32`);
    },
    async createEni(request: AddressRequest): Promise<CreatedEni> {
      const n = identity();
      const allocated = await allocEni(ec2, {
        instanceId: n.instanceId,
        subnetId: n.subnetId,
        securityGroupIds: n.securityGroupIds,
        clusterName: config.eni.clusterName || undefined,
        additionalTags: config.eni.additionalEniTags,
        ...(request.prefixCount !== undefined ? { prefixCount: request.prefixCount } : { secondaryIpCount: request.ipCount }),
      });
      const eni = allocated.eni;
      return {
        eniId: eni.eniId,
        mac: eni.mac,
        deviceNumber: allocated.deviceIndex,
        routeTableId: routeTableId(allocated.deviceIndex),
        subnetId: eni.subnetId,
        subnetCidr: n.subnetCidr,
        primaryIp: eni.privateIps[0] ?? "",
        cidrs: [...eni.privateIps.slice(1).map((ip) => `${ip}/32`), ...eni.ipv4Prefixes],
      };
    },
    async release(eniId, cidrs, prefixes) {
      if (prefixes) await unassignPrefixes(ec2, eniId, cidrs);
      else await unassignIps(ec2, eniId, cidrs.map((c) => c.replace(/\/32$/, "")));
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
