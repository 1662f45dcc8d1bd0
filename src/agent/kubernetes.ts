// The agent's use of the Kubernetes API (src/k8s's NodeKube): connected before node initialisation
// with aws-node's start-up rule (it waits for the API server only when security groups for pods or
// custom networking need it), the EC2 errors operators must see as events on the agent's pod
// (MissingIAMPermissions for UnauthorizedOperation, as aws-node; the subnet running out of addresses),
// and, with ENABLE_POD_ENI, the node's CNINode feature SecurityGroupsForPods once there is room for a
// trunk ENI, tried on every pool pass until written, as aws-node does.

import type { AgentConfig } from "./config.ts";
import type { NodeAgent } from "./node-agent.ts";
import type { Datastore } from "./datastore/datastore.ts";
import type { Log } from "../log/log.ts";
import type { Ec2CallEvent } from "../aws/ec2-client.ts";
import { isInsufficientAddresses } from "../aws/errors.ts";
import type { NodeKube } from "../k8s/node-kube.ts";
import type { Scheduler, Timer } from "../time/scheduler.ts";

/**
 * The Kubernetes side, or undefined when no access is configured (neither KUBECONFIG nor an in-cluster
 * service account) and nothing needs it: then the Kubernetes client is not even loaded, which costs
 * seconds and tens of MB (measured: +2.5 s and +80 MB RSS on the project's 2-core machine).
 */
export async function connectKubernetes(o: { config: AgentConfig; env: Readonly<Record<string, string | undefined>>; version: string; log: Log }): Promise<NodeKube | undefined> {
  const { config, env } = o;
  const requireApiServer = config.eni.podEni || config.eni.customNetworking;
  const configured = (env["KUBECONFIG"] ?? "").trim() !== "" || (env["KUBERNETES_SERVICE_HOST"] ?? "").trim() !== "";
  if (!configured && !requireApiServer) {
    o.log("info", "running without the Kubernetes API: neither KUBECONFIG nor an in-cluster service account (KUBERNETES_SERVICE_HOST) is set");
    return undefined;
  }
  const { NodeKube } = await import("../k8s/node-kube.ts");
  return NodeKube.connect({
    env: { ...env, CLUSTER_ENDPOINT: config.clusterEndpoint },
    nodeName: config.nodeName,
    pod: config.pod,
    requireApiServer,
    watchEniConfigs: config.eni.customNetworking,
    eniConfigKeys: { annotation: config.eni.eniConfigAnnotationKey, label: config.eni.eniConfigLabelKey },
    userAgent: `vpc-cni-agent/${o.version}`,
    log: o.log,
  });
}

/** Sees every EC2 answer; reports the ones an operator must act on as events (the recorder deduplicates). */
export function ec2EventReporter(kube: () => NodeKube | undefined, growthPauseMs: number): (e: Ec2CallEvent) => void {
  return (e) => {
    const code = e.errorCode;
    if (code === undefined) return;
    if (code === "UnauthorizedOperation") kube()?.recordMissingPermission(e.api);
    else if (isInsufficientAddresses(code)) kube()?.recordAddressExhaustion(code, `${e.api} failed with ${code}`, growthPauseMs);
  };
}

const SECURITY_GROUPS_FOR_PODS_INTERVAL_MS = 5_000;

/**
 * Custom networking with ENABLE_POD_ENI (reference §6): CustomNetworking=<the node's ENIConfig> on the
 * node's CNINode, unless the ENIConfig is "default", so the VPC Resource Controller builds the trunk and
 * branch ENIs from that ENIConfig. Tried every 5 s until written (the Node or the CNINode may not be
 * there yet). Returns a stop function.
 */
export function advertiseCustomNetworking(o: { kube: Pick<NodeKube, "eniConfigName" | "addCniNodeFeature">; scheduler: Scheduler; log: Log }): () => void {
  let timer: Timer | undefined;
  let running = false;
  let warned = "";
  const stop = () => {
    o.scheduler.cancel(timer);
    timer = undefined;
  };
  const pass = async () => {
    if (running || timer === undefined) return;
    running = true;
    try {
      const name = o.kube.eniConfigName();
      if (name === null) return; // the Node is not read yet
      if (name === "default") return stop();
      const got = await o.kube.addCniNodeFeature({ name: "CustomNetworking", value: name });
      o.log("info", `CNINode: CustomNetworking=${name} ${got.changed ? "added" : "is there already"}`);
      stop();
    } catch (err) {
      const message = (err as Error).message;
      if (message !== warned) o.log("warn", `CNINode: CustomNetworking not added yet: ${message}`);
      warned = message;
    } finally {
      running = false;
    }
  };
  timer = o.scheduler.every(SECURITY_GROUPS_FOR_PODS_INTERVAL_MS, () => void pass(), { unref: true });
  void pass();
  return stop;
}

/**
 * With ENABLE_POD_ENI: SecurityGroupsForPods on the node's CNINode while the node has no trunk ENI and
 * room for one (ENIs in use below the usable maximum), every 5 s until written; the VPC Resource
 * Controller then attaches the trunk. Returns a stop function.
 */
export function advertiseSecurityGroupsForPods(o: { kube: NodeKube; agent: NodeAgent; datastore: Datastore; maxEni: number | null; scheduler: Scheduler; log: Log }): () => void {
  let timer: Timer | undefined;
  let running = false;
  let warned = "";
  const pass = async () => {
    if (running) return;
    running = true;
    try {
      if (o.agent.hasTrunk) return stop();
      const limits = o.agent.poolLimits();
      const usable = Math.min(o.maxEni ?? limits.enis, limits.enis) - limits.unmanagedEnis;
      if (o.datastore.snapshot().enis.length >= usable) return;
      const got = await o.kube.addCniNodeFeature({ name: "SecurityGroupsForPods" });
      o.log("info", got.changed ? "CNINode: SecurityGroupsForPods added; the VPC Resource Controller attaches the trunk ENI" : "CNINode: SecurityGroupsForPods is there already");
      stop();
    } catch (err) {
      // Once per distinct failure: the CNINode may not exist yet, or the API server may be away.
      const message = (err as Error).message;
      if (message !== warned) o.log("warn", `CNINode: SecurityGroupsForPods not added yet: ${message}`);
      warned = message;
    } finally {
      running = false;
    }
  };
  const stop = () => {
    o.scheduler.cancel(timer);
    timer = undefined;
  };
  timer = o.scheduler.every(SECURITY_GROUPS_FOR_PODS_INTERVAL_MS, () => void pass(), { unref: true });
  void pass();
  return stop;
}
