// egress-cni's IPv4 egress for IPv6 pods (reference §1.4): a second veth, `v4if0` in the pod, with an
// address from 169.254.172.0/22; the pod's IPv4 goes to the host end, which holds the range's gateway
// as a /32, and leaves the node SNATed to the node's IPv4 address (egress-snat.ts). Nothing routes to
// these addresses from outside the node: they are the same on every node.
//
//   pod:   v4if0 <ip>/22 (no prefix route)
//          <gw> dev v4if0 scope link src <ip>
//          <subnet> via <gw> dev v4if0 src <ip>
//          default via <gw> dev v4if0
//   host:  <hostVeth> <gw>/32 scope link
//          <ip> dev <hostVeth> scope link
//
// The host end's name is derived from the container id (unique per sandbox), so DEL can remove it
// even when the namespace is gone and a new sandbox of the same pod is never touched.

import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { isNotFound, run } from "../exec.ts";
import { batchLineError, ipBatch } from "../ip-batch.ts";
import { validateIfName, validateIpv4, validateMtu } from "../validate.ts";
import { message, PodNetworkError, type StepLine } from "./errors.ts";
import { assertNetns, hostSide, podRunner, validateNetnsPath } from "./namespaces.ts";
import { deleteHostLink, deleteHostVethIfOurs, hostLinks, podVethLines, randomMac, setHostVethSysctls, uniqueMac } from "./veth.ts";

export const EGRESS_V4_IFNAME = "v4if0";

export interface EgressV4Options {
  netnsPath: string;
  containerId: string;
  /** The pod's egress address and the range's prefix length and gateway (from the allocator). */
  address: string;
  prefixLength: number;
  gateway: string;
  /** The range, e.g. 169.254.172.0/22. */
  subnet: string;
  mtu: number;
  hostNetns?: string | undefined;
}

/** The host end's name: "egv4" and 11 hex characters of sha1(container id), 15 characters. */
export function egressHostVethName(containerId: string): string {
  return `egv4${createHash("sha1").update(containerId).digest("hex").slice(0, 11)}`;
}

export async function setupEgressV4(options: EgressV4Options): Promise<{ hostVeth: string; hostMac: string; podMac: string }> {
  const netnsPath = validateNetnsPath(options.netnsPath);
  const address = validateIpv4(options.address, "egress address");
  const gateway = validateIpv4(options.gateway, "egress gateway");
  const mtu = validateMtu(options.mtu);
  if (!Number.isInteger(options.prefixLength) || options.prefixLength < 1 || options.prefixLength > 30) throw new PodNetworkError("veth", `invalid egress prefix length ${options.prefixLength}`, undefined);
  if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(options.subnet)) throw new PodNetworkError("veth", `invalid egress subnet ${JSON.stringify(options.subnet)}`, undefined);
  const hostVeth = validateIfName(egressHostVethName(options.containerId));
  const host = hostSide(options.hostNetns);
  const pod = podRunner(netnsPath);
  await assertNetns(netnsPath);

  const links = await hostLinks(host);
  // A leftover of this very sandbox (an ADD repeated after a failure): the name is the container's.
  if (links.has(hostVeth)) await deleteHostLink(host, hostVeth);
  const hostMac = uniqueMac(new Set(links.values()));
  const podMac = randomMac();
  const ifName = EGRESS_V4_IFNAME;
  const podPlan: StepLine[] = [
    ...podVethLines({ ifName, podMac, hostVeth, hostMac, mtu }, host),
    { step: "pod-address", line: `addr add ${address}/${options.prefixLength} dev ${ifName} noprefixroute` },
    { step: "pod-gateway-route", line: `route replace ${gateway}/32 dev ${ifName} scope link src ${address}` },
    { step: "pod-gateway-route", line: `route replace ${options.subnet} via ${gateway} dev ${ifName} src ${address}` },
    { step: "pod-default-route", line: `route replace default via ${gateway} dev ${ifName}` },
  ];
  const hostPlan: StepLine[] = [
    { step: "host-link-up", line: `link set dev ${hostVeth} up` },
    { step: "host-route", line: `addr add ${gateway}/32 dev ${hostVeth} scope link` },
    { step: "host-route", line: `route replace ${address}/32 dev ${hostVeth} scope link` },
  ];
  const undo = async (step: StepLine["step"], error: unknown) => {
    const rollback: unknown[] = [];
    await deleteHostVethIfOurs(host, hostVeth, hostMac).catch((e: unknown) => rollback.push(e));
    return new PodNetworkError(step, message(error), error, rollback);
  };
  try {
    const podLines = podPlan.map((p) => p.line);
    const failure = (await ipBatch(pod, podLines)).failures[0];
    if (failure !== undefined) {
      const step = podPlan[failure.line - 1]?.step ?? "veth";
      throw await undo(step, batchLineError(pod, podLines, failure));
    }
    await setHostVethSysctls(host, hostVeth);
    const hostLines = hostPlan.map((p) => p.line);
    const hostFailure = (await ipBatch(host.runner, hostLines)).failures[0];
    if (hostFailure !== undefined) throw await undo(hostPlan[hostFailure.line - 1]?.step ?? "host-link-up", batchLineError(host.runner, hostLines, hostFailure));
    // The reference's egress plugin turns IPv4 forwarding on: the node forwards for its pods.
    await enableIpv4Forwarding(options.hostNetns);
  } catch (error) {
    if (error instanceof PodNetworkError) throw error;
    throw await undo("veth", error);
  }
  return { hostVeth, hostMac, podMac };
}

/** Removes the pair by its host end (its address and route go with it). Gone is fine. */
export async function teardownEgressV4(options: { containerId: string; hostNetns?: string | undefined }): Promise<void> {
  const host = hostSide(options.hostNetns);
  try {
    await deleteHostLink(host, egressHostVethName(options.containerId));
  } catch (error) {
    if (!isNotFound(error)) throw new PodNetworkError("teardown", message(error), error);
  }
}

/** CHECK: the host end is there and routes the address. Returns what drifted. */
export async function checkEgressV4(options: { containerId: string; address: string; hostNetns?: string | undefined }): Promise<string[]> {
  const host = hostSide(options.hostNetns);
  const hostVeth = egressHostVethName(options.containerId);
  const { stdout } = await run(host.runner.file, [...host.runner.args, "-j", "-4", "route", "show", "table", "main", "exact", `${validateIpv4(options.address)}/32`]);
  const routes = JSON.parse(stdout) as Array<Record<string, unknown>>;
  return routes.some((r) => r["dev"] === hostVeth) ? [] : [`host route ${options.address} dev ${hostVeth}: ${routes.length === 0 ? "missing" : `via ${String(routes[0]?.["dev"])}`}`];
}

async function enableIpv4Forwarding(hostNetns: string | undefined): Promise<void> {
  if (hostNetns === undefined) {
    writeFileSync("/proc/sys/net/ipv4/ip_forward", "1");
    return;
  }
  await run("ip", ["netns", "exec", hostNetns, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
}
