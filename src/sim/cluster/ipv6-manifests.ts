// The manifests of an IPv6 cluster (`vpcsim up --nodes N --ipv6`, `vpcsim demo --ipv6`): deploy/ as
// it is, except aws-node's DaemonSet in aws-node's IPv6 mode (ENABLE_IPv4=false, ENABLE_IPv6=true,
// ENABLE_PREFIX_DELEGATION=true, for the agent and its init container) and egress-cni's address
// directory inside the aws-node state volume (a hostPath, so each node keeps its own: vpcsim's nodes
// share the machine's /run). Written as one JSON List into the run directory for the daemon to apply.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { KObject } from "../kube/objects.ts";
import { loadManifests } from "../kube/apply.ts";

export const IPV6_ENV: Readonly<Record<string, string>> = { ENABLE_IPv4: "false", ENABLE_IPv6: "true", ENABLE_PREFIX_DELEGATION: "true" };
const STATE_DIR = "/var/run/aws-node";

type Container = { name: string; env?: Array<{ name: string; value?: string }> };

function setEnv(container: Container, values: Readonly<Record<string, string>>): void {
  const env = container.env ?? [];
  for (const [name, value] of Object.entries(values)) {
    const found = env.find((e) => e.name === name);
    if (found) found.value = value;
    else env.push({ name, value });
  }
  container.env = env;
}

/** deploy/'s objects with aws-node's DaemonSet switched to IPv6. */
export function ipv6ClusterObjects(deployDir: string): KObject[] {
  const objects = loadManifests(deployDir);
  const daemonSet = objects.find((o) => o.kind === "DaemonSet" && o.metadata?.name === "aws-node");
  if (!daemonSet) throw new Error(`${deployDir} has no aws-node DaemonSet`);
  const pod = (daemonSet.spec as { template: { spec: { containers: Container[]; initContainers?: Container[] } } }).template.spec;
  const agent = pod.containers.find((c) => c.name === "aws-node");
  if (!agent) throw new Error("the aws-node DaemonSet has no aws-node container");
  const stateDir = agent.env?.find((e) => e.name === "VPC_CNI_STATE_DIR")?.value ?? STATE_DIR;
  setEnv(agent, { ...IPV6_ENV, VPC_CNI_EGRESS_IPAM_DIR: `${stateDir}/egress-v4-ipam` });
  for (const init of pod.initContainers ?? []) setEnv(init, { ENABLE_IPv6: "true" });
  return objects;
}

/** Writes them into `runDir`; returns the file for the daemon's manifest list. */
export function writeIpv6ClusterManifests(deployDir: string, runDir: string): string {
  const file = join(runDir, "ipv6-cluster-manifests.json");
  writeFileSync(file, JSON.stringify({ apiVersion: "v1", kind: "List", items: ipv6ClusterObjects(deployDir) }, null, 2));
  return file;
}
