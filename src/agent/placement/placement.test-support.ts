// A node on vpcsim's EC2 model behind its real wire, for the placement tests: the agent's AWS cloud
// (makeAwsCloud) with the real SDK, a VPC with a secondary CIDR 100.64.0.0/16 and a subnet of it per
// zone, security groups for pods, and instance metadata read from the model. The node's Node object
// is a plain object whose labels and annotations the tests set, read as NodeKube reads it.

import { VirtualScheduler } from "../../time/virtual-scheduler.ts";
import { ec2Context } from "../../aws/ec2-client.ts";
import { RequestBudget } from "../../aws/request-budget.ts";
import type { Imds, ImdsEni, InstanceIdentity } from "../../aws/imds.ts";
import { start, stop, type Rig } from "../../sim/ec2/server.test-support.ts";
import { loadConfig, type AgentConfig } from "../config.ts";
import { makeAwsCloud } from "../aws-cloud.ts";
import type { AgentCloud } from "../node-agent.ts";
import { nodeEniConfigChoice } from "../../k8s/eniconfig-name.ts";
import type { EniConfig } from "../../k8s/resources.ts";

export interface PlacementRig {
  rig: Rig;
  vpcId: string;
  primarySubnet: string; // 10.0.1.0/24, us-east-1a (zone b: 10.0.2.0/24)
  podSubnetA: string; // 100.64.0.0/19, us-east-1a
  podSubnetB: string; // 100.64.32.0/19, us-east-1b
  podGroup: string;
  otherGroup: string;
  primaryGroups: string[];
  instanceId: string;
  node: { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
  eniConfigs: Map<string, EniConfig>;
  events: { reason: string; message: string }[];
  logs: string[];
  /** The agent's cloud with this configuration, the node's identity read (as init does first). */
  cloud(env?: Record<string, string>): Promise<AgentCloud>;
  /** The ENIs EC2 has, with subnet and groups, sorted by id. */
  enis(): { id: string; subnetId: string; groups: string[] }[];
  close(): Promise<void>;
}

/** `zone: "b"`: the node is an instance launched in us-east-1b (10.0.2.0/24) instead. */
export async function placementRig(options: { zone?: "a" | "b" } = {}): Promise<PlacementRig> {
  const rig = await start();
  const { model, clock, vpcId } = rig.world;
  const subnetId = options.zone === "b" ? rig.world.subnetBId : rig.world.subnetId;
  const instanceId = options.zone === "b" ? model.runInstance({ instanceType: "m5.large", subnetId }).instanceId : rig.world.instanceId;
  model.associateVpcCidrBlock({ vpcId, cidrBlock: "100.64.0.0/16" });
  clock.advance(0);
  const podSubnetA = model.createSubnet({ vpcId, cidrBlock: "100.64.0.0/19", availabilityZone: "us-east-1a" }).subnetId;
  const podSubnetB = model.createSubnet({ vpcId, cidrBlock: "100.64.32.0/19", availabilityZone: "us-east-1b" }).subnetId;
  const podGroup = model.createSecurityGroup({ vpcId, groupName: "pods", description: "pods" }).groupId;
  const otherGroup = model.createSecurityGroup({ vpcId, groupName: "other", description: "other" }).groupId;
  const instance = model.instance(instanceId)!;
  const primary = model.networkInterface(instance.primaryNetworkInterfaceId)!;
  const node = { metadata: { labels: {} as Record<string, string>, annotations: {} as Record<string, string> } };
  const eniConfigs = new Map<string, EniConfig>();
  const events: { reason: string; message: string }[] = [];
  const logs: string[] = [];
  const scheduler = new VirtualScheduler();

  const imds = {
    async identity(): Promise<InstanceIdentity> {
      const i = model.instance(instanceId)!;
      const eni = model.networkInterface(i.primaryNetworkInterfaceId)!;
      return {
        instanceId,
        instanceType: i.instanceType,
        availabilityZone: i.availabilityZone,
        region: "us-east-1",
        primaryMac: eni.macAddress,
        primaryIp: eni.privateIps[0]!.address,
        primaryEniId: eni.networkInterfaceId,
        subnetId: eni.subnetId,
        vpcId,
        accountId: undefined,
      };
    },
    async eni(mac: string, primaryMac: string): Promise<ImdsEni> {
      const eni = model.networkInterfaces().find((e) => e.macAddress === mac)!;
      return {
        mac,
        eniId: eni.networkInterfaceId,
        deviceNumber: eni.attachment?.deviceIndex ?? 0,
        networkCard: 0,
        primary: mac === primaryMac,
        subnetId: eni.subnetId,
        subnetCidr: model.subnet(eni.subnetId)!.cidrBlock,
        vpcId,
        ipv4s: eni.privateIps.map((p) => p.address),
        ipv4Prefixes: [...eni.ipv4Prefixes],
        securityGroupIds: [...eni.groupIds],
        vpcIpv4Cidrs: [...model.vpc(vpcId)!.cidrBlocks],
      };
    },
  } as unknown as Imds;

  return {
    rig,
    vpcId,
    primarySubnet: subnetId,
    podSubnetA,
    podSubnetB,
    podGroup,
    otherGroup,
    primaryGroups: [...primary.groupIds],
    instanceId,
    node,
    eniConfigs,
    events,
    logs,
    async cloud(env = {}) {
      const loaded = loadConfig({ AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: "false", ...env });
      if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
      const config: AgentConfig = loaded.config;
      const ec2 = ec2Context(rig.client, new RequestBudget({ clock: scheduler }), { clock: scheduler, random: () => 0 });
      const keys = { annotation: config.eni.eniConfigAnnotationKey, label: config.eni.eniConfigLabelKey };
      const cloud = makeAwsCloud({
        ec2,
        imds,
        config,
        log: (level, message) => logs.push(`${level}: ${message}`),
        eniConfigs: () => ({ choice: () => nodeEniConfigChoice(node, keys), synced: () => true, get: (name) => eniConfigs.get(name) }),
        reportPlacement: (reason, message) => events.push({ reason, message }),
      });
      await cloud.identity();
      return cloud;
    },
    enis() {
      return model
        .networkInterfaces()
        .map((e) => ({ id: e.networkInterfaceId, subnetId: e.subnetId, groups: [...e.groupIds].sort() }))
        .sort((a, b) => a.id.localeCompare(b.id));
    },
    close: () => stop(rig),
  };
}

export function eniConfig(name: string, subnet: string, securityGroups?: string[]): EniConfig {
  return { apiVersion: "crd.k8s.amazonaws.com/v1alpha1", kind: "ENIConfig", metadata: { name }, spec: { subnet, ...(securityGroups ? { securityGroups } : {}) } };
}
