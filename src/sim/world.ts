// Builds a run's world from its topology: the VPC (dual-stack if a subnet is), subnets (Name-tagged,
// with their /64s), and instances (dual-stack in dual-stack subnets).

import type { Ec2Api, SubnetView } from "./ec2/api.ts";
import type { Instance } from "./ec2/types.ts";
import { isDualStack, subnetIsDualStack, type InstanceSpec, type Topology } from "./topology.ts";
import { formatCidr6, parseCidr6, subnetOf6, type Cidr6 } from "./ipv6.ts";
import { nameTag } from "./status.ts";

export function buildWorld(api: Ec2Api, topology: Topology): void {
  const vpc = api.createVpc({
    cidrBlock: topology.vpcCidr,
    cidrBlocks: [topology.vpcCidr, ...(topology.secondaryCidrs ?? [])],
    ipv6: isDualStack(topology),
    tags: [{ key: "Name", value: "vpcsim" }],
  });
  const vpc6 = vpc.ipv6CidrBlocks[0];
  topology.subnets.forEach((s, index) => {
    const tags = [{ key: "Name", value: s.name }, ...Object.entries(s.tags ?? {}).map(([key, value]) => ({ key, value }))];
    // Each dual-stack subnet takes the /64 numbered by its place in the topology, as one numbers
    // them in the console, so a topology always lays its subnets out the same way in its /56.
    const dualStack = vpc6 !== undefined && subnetIsDualStack(topology, s);
    const ipv6CidrBlock = dualStack ? formatCidr6(subnetOf6(parseCidr6(vpc6) as Cidr6, 64, index)) : undefined;
    api.createSubnet({ vpcId: vpc.vpcId, cidrBlock: s.cidr, availabilityZone: s.zone, ...(ipv6CidrBlock ? { ipv6CidrBlock } : {}), tags });
  });
  for (const spec of topology.instances) launchInstance(api, spec);
}

/** Finds a subnet by its Name tag or id. */
export function findSubnet(api: Ec2Api, ref: string): SubnetView | undefined {
  return api.subnets().find((s) => s.subnetId === ref || nameTag(s.tags) === ref);
}

export function launchInstance(api: Ec2Api, spec: InstanceSpec): Instance {
  const subnet = findSubnet(api, spec.subnet);
  if (!subnet) throw new Error(`no subnet '${spec.subnet}'`);
  if (api.instances().some((i) => i.state !== "terminated" && nameTag(i.tags) === spec.name)) {
    throw new Error(`an instance named '${spec.name}' is already running`);
  }
  return api.runInstance({
    instanceType: spec.type,
    subnetId: subnet.subnetId,
    associatePublicIp: spec.public ?? false,
    // In a dual-stack subnet a node is dual-stack: its primary ENI gets an IPv6 address, as EC2
    // does with the subnet's auto-assign setting (or Ipv6AddressCount=1 at launch).
    ...(subnet.ipv6CidrBlock !== undefined ? { ipv6AddressCount: 1 } : {}),
    tags: [{ key: "Name", value: spec.name }],
  });
}
