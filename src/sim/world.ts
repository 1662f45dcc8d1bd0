// Builds a run's world from its topology: the VPC, subnets (Name-tagged), and instances.

import type { Ec2Api, SubnetView } from "./ec2/api.ts";
import type { Instance } from "./ec2/types.ts";
import type { InstanceSpec, Topology } from "./topology.ts";
import { nameTag } from "./status.ts";

export function buildWorld(api: Ec2Api, topology: Topology): void {
  const vpc = api.createVpc({
    cidrBlock: topology.vpcCidr,
    cidrBlocks: [topology.vpcCidr, ...(topology.secondaryCidrs ?? [])],
    tags: [{ key: "Name", value: "vpcsim" }],
  });
  for (const s of topology.subnets) {
    const tags = [{ key: "Name", value: s.name }, ...Object.entries(s.tags ?? {}).map(([key, value]) => ({ key, value }))];
    api.createSubnet({ vpcId: vpc.vpcId, cidrBlock: s.cidr, availabilityZone: s.zone, tags });
  }
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
    tags: [{ key: "Name", value: spec.name }],
  });
}
