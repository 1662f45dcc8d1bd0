// The fault campaign's invariants, checked after the node has settled (faults off, every pending DEL
// done, time for the pool, the reconciler and the leaked-ENI sweep to act). Each returns the list of
// violations, empty when it holds: a failing seed prints them all.

import type { NodeRig } from "./node-rig.ts";
import { decodeCheckpoint } from "../../src/agent/datastore/checkpoint-format.ts";
import { readFileSync } from "node:fs";

export interface RunningPod {
  namespace: string;
  name: string;
  containerID: string;
  /** The address its ADD answered (what the pod has on the host), and the ENI it came from. */
  address?: string;
  eniId?: string;
}

/** What the campaign did to EC2 behind the agent's back. */
export interface BehindBack {
  /** Addresses unassigned. */
  addresses: ReadonlySet<string>;
  /** ENIs detached. */
  enis: ReadonlySet<string>;
}

const TAG_INSTANCE_ID = "node.k8s.amazonaws.com/instance_id";

/**
 * `behindBack`: addresses unassigned and ENIs detached in EC2 behind the agent's back. A pod given
 * such an address before the reconciler saw the change (nothing tells the agent sooner) holds an
 * address EC2 no longer routes to the node; the agent keeps it for the pod while it runs, but a
 * restart drops it (the reference's restore: an address in no CIDR of the node). Such a pod is exempt
 * from "has its address in the datastore", never from "no address twice".
 */
export function checkInvariants(rig: NodeRig, running: readonly RunningPod[], targets: { warmIp?: number; minIp?: number; warmPrefix?: number }, behindBack: BehindBack = { addresses: new Set(), enis: new Set() }): string[] {
  const v: string[] = [];
  const datastore = rig.datastore;
  if (!datastore) return ["no agent is running after the settle"];
  const key = (p: RunningPod) => ({ networkName: "aws-cni", containerID: p.containerID, ifName: "eth0" });

  // Every running pod has exactly one address; no address is held twice; nothing is held for no pod.
  const byAddress = new Map<string, string>();
  const onHost = new Map<string, string>();
  for (const p of running) {
    if (p.address === undefined) continue;
    const other = onHost.get(p.address);
    if (other) v.push(`${p.address} is on the host for both ${other} and ${p.name}`);
    onHost.set(p.address, p.name);
  }
  for (const p of running) {
    const a = datastore.lookup(key(p));
    if (!a) {
      const lostOutside = (p.address !== undefined && behindBack.addresses.has(p.address)) || (p.eniId !== undefined && behindBack.enis.has(p.eniId));
      if (lostOutside && p.address !== undefined && datastore.locate(p.address) === undefined) continue;
      v.push(`running pod ${p.namespace}/${p.name} (${p.containerID}) has no address in the datastore`);
      continue;
    }
    if (p.address !== undefined && a.address !== p.address) v.push(`running pod ${p.name} has ${p.address} on the host but ${a.address} in the datastore`);
    const other = byAddress.get(a.address);
    if (other) v.push(`${a.address} is held by ${other} and ${p.name}`);
    byAddress.set(a.address, p.name);
  }
  const runningIds = new Set(running.map((p) => p.containerID));
  for (const a of datastore.allocations()) {
    if (!runningIds.has(a.key.containerID)) v.push(`${a.address} is held for ${a.key.containerID} (${a.metadata.k8sPodName}), which is not running`);
  }

  // EC2 agrees with the agent about each ENI's addresses, and about which ENIs are the node's.
  const snap = datastore.snapshot();
  const model = rig.ec2.model;
  for (const e of snap.enis) {
    const truth = model.networkInterface(e.id);
    if (!truth || truth.attachment?.instanceId !== rig.instanceId) {
      // Detached behind the agent's back while pods hold its addresses: kept, serving nobody, until their DEL.
      if (behindBack.enis.has(e.id) && e.isExcluded && e.assigned > 0) continue;
      v.push(`ENI ${e.id} is in the datastore but ${truth ? "not attached to the instance" : "gone"} in EC2`);
      continue;
    }
    const inEc2 = new Set([...truth.privateIps.filter((p) => !p.primary).map((p) => `${p.address}/32`), ...truth.ipv4Prefixes]);
    const inAgent = new Set(e.cidrs.map((c) => c.cidr));
    for (const c of inEc2) if (!inAgent.has(c)) v.push(`${c} is on ${e.id} in EC2 but not in the datastore (leaked)`);
    for (const c of e.cidrs) {
      if (inEc2.has(c.cidr)) continue;
      // Unassigned behind the agent's back after a pod got it (EC2 said nothing until the reconcile):
      // kept for that pod until its DEL, serving nobody else, as the reconciler documents.
      if (c.excluded && c.assigned > 0) continue;
      v.push(`${c.cidr} is in the datastore on ${e.id} but not in EC2${c.assigned > 0 ? ` (a pod holds it${c.excluded ? "" : ", and it still serves"})` : ""}`);
    }
  }
  const agentEnis = new Set(snap.enis.map((e) => e.id));
  for (const n of model.networkInterfaces()) {
    if (n.attachment?.instanceId === rig.instanceId && !agentEnis.has(n.networkInterfaceId)) v.push(`ENI ${n.networkInterfaceId} is attached in EC2 but not in the datastore`);
    const ours = n.tags.some((t) => t.key === TAG_INSTANCE_ID && t.value === rig.instanceId);
    if (ours && n.attachment === undefined) v.push(`ENI ${n.networkInterfaceId} with this node's tags is left behind, attached nowhere`);
  }

  // Nothing held beyond the warm targets (WARM_IP_TARGET / MINIMUM_IP_TARGET: exact per address).
  if (targets.warmIp !== undefined) {
    const assigned = snap.stats.assignedIPs;
    const wanted = Math.max(assigned + targets.warmIp, targets.minIp ?? 0);
    if (snap.stats.totalIPs > wanted) v.push(`${snap.stats.totalIPs} addresses held for ${assigned} pods: beyond WARM_IP_TARGET=${targets.warmIp} MINIMUM_IP_TARGET=${targets.minIp ?? 0} (${wanted})`);
  }

  if (targets.warmPrefix !== undefined && snap.stats.freePrefixes > targets.warmPrefix) {
    v.push(`${snap.stats.freePrefixes} prefixes without a pod: beyond WARM_PREFIX_TARGET=${targets.warmPrefix}`);
  }

  // The checkpoint matches the datastore.
  try {
    const file = decodeCheckpoint(readFileSync(rig.checkpoint.path, "utf8"), rig.checkpoint.path);
    const inFile = new Map(file.allocations.map((a) => [a.containerID, a.ipv4]));
    const inMemory = new Map(datastore.allocations().map((a) => [a.key.containerID, a.address]));
    for (const [id, ip] of inMemory) if (inFile.get(id) !== ip) v.push(`the checkpoint has ${inFile.get(id) ?? "nothing"} for ${id}, the datastore ${ip}`);
    for (const [id, ip] of inFile) if (!inMemory.has(id)) v.push(`the checkpoint holds ${ip} for ${id}, which the datastore does not`);
  } catch (err) {
    if (datastore.allocations().length > 0) v.push(`the checkpoint cannot be read: ${(err as Error).message}`);
  }
  return v;
}
