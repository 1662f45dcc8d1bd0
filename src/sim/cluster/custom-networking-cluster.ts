// A cluster whose pods use custom networking (`vpcsim demo --custom-networking`): the VPC gets the
// secondary CIDR 100.64.0.0/16 with a subnet per zone tagged kubernetes.io/role/cni for pods, and
// aws-node runs with AWS_VPC_K8S_CNI_CUSTOM_NETWORK_BY_TAGS=true (custom networking with no ENIConfig):
// pods' addresses come from the tagged subnet of their node's zone, never from the node subnets.
// The manifests are deploy/ with that one variable added, as one JSON List in the run directory.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Topology } from "../topology.ts";
import type { KObject } from "../kube/objects.ts";
import { loadManifests } from "../kube/apply.ts";

export const POD_CIDR = "100.64.0.0/16";
export const CUSTOM_NETWORKING_ENV: Readonly<Record<string, string>> = { AWS_VPC_K8S_CNI_CUSTOM_NETWORK_BY_TAGS: "true" };

/** The topology with the pod CIDR and a /19 of it per zone of its subnets, tagged for pods. */
export function withPodSubnets(topology: Topology): Topology {
  const zones = [...new Set(topology.subnets.map((s) => s.zone))];
  return {
    ...topology,
    secondaryCidrs: [...(topology.secondaryCidrs ?? []), POD_CIDR],
    subnets: [...topology.subnets, ...zones.map((zone, i) => ({ name: `pods-${zone.slice(-1)}`, zone, cidr: `100.64.${i * 32}.0/19`, tags: { "kubernetes.io/role/cni": "1" } }))],
  };
}

type Container = { name: string; env?: Array<{ name: string; value?: string }> };

/** deploy/'s objects with aws-node's agent in custom networking by tags. */
export function customNetworkingObjects(deployDir: string): KObject[] {
  const objects = loadManifests(deployDir);
  const daemonSet = objects.find((o) => o.kind === "DaemonSet" && o.metadata?.name === "aws-node");
  if (!daemonSet) throw new Error(`${deployDir} has no aws-node DaemonSet`);
  const agent = (daemonSet.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers.find((c) => c.name === "aws-node");
  if (!agent) throw new Error("the aws-node DaemonSet has no aws-node container");
  const env = agent.env ?? [];
  for (const [name, value] of Object.entries(CUSTOM_NETWORKING_ENV)) {
    const found = env.find((e) => e.name === name);
    if (found) found.value = value;
    else env.push({ name, value });
  }
  agent.env = env;
  return objects;
}

export function writeCustomNetworkingManifests(deployDir: string, runDir: string): string {
  const file = join(runDir, "custom-networking-cluster-manifests.json");
  writeFileSync(file, JSON.stringify({ apiVersion: "v1", kind: "List", items: customNetworkingObjects(deployDir) }, null, 2));
  return file;
}
