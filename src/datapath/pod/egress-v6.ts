// egress-cni's IPv6 egress for IPv4 pods (reference §1.4, ENABLE_V6_EGRESS): a second veth, `v6if0`
// in the pod, with an address from fd00::ac:00/118; the pod's IPv6 default route points at the host
// end's link-local address, and its traffic leaves the node SNATed to the node's IPv6 address
// (egress-snat.ts, ip6tables). IPv6 is turned off on the pod's own interface (CNI_IFNAME), so IPv6
// can only leave through v6if0.
//
//   pod:   <ifName> disable_ipv6=1
//          v6if0 <ip>/118 nodad
//          default via <host end's fe80::…> dev v6if0
//   host:  <hostVeth> (accept_dad=0: its link-local is usable at once)
//          <ip>/128 dev <hostVeth>

import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { isNotFound, resolveTool, run } from "../exec.ts";
import { batchLineError, ipBatch } from "../ip-batch.ts";
import { validateIfName, validateMtu, validatePodAddress } from "../validate.ts";
import { message, PodNetworkError, type StepLine } from "./errors.ts";
import { assertNetns, hostSide, podRunner, validateNetnsPath, type HostSide } from "./namespaces.ts";
import { deleteHostLink, deleteHostVethIfOurs, hostLinks, podVethLines, randomMac, setHostVethSysctls, uniqueMac } from "./veth.ts";

export const EGRESS_V6_IFNAME = "v6if0";

export interface EgressV6Options {
  netnsPath: string;
  containerId: string;
  /** CNI_IFNAME: the pod's own interface, whose IPv6 is turned off. */
  podIfName: string;
  address: string;
  prefixLength: number;
  mtu: number;
  hostNetns?: string | undefined;
}

/** The host end's name: "egv6" and 11 hex characters of sha1(container id). */
export function egressV6HostVethName(containerId: string): string {
  return `egv6${createHash("sha1").update(containerId).digest("hex").slice(0, 11)}`;
}

export async function setupEgressV6(options: EgressV6Options): Promise<{ hostVeth: string; gateway: string }> {
  const netnsPath = validateNetnsPath(options.netnsPath);
  const { address, family } = validatePodAddress(options.address, "egress address");
  if (family !== "6") throw new PodNetworkError("veth", `egress address ${address} is not IPv6`, undefined);
  const mtu = validateMtu(Math.max(options.mtu, 1280));
  const podIfName = validateIfName(options.podIfName);
  if (!Number.isInteger(options.prefixLength) || options.prefixLength < 64 || options.prefixLength > 126) throw new PodNetworkError("veth", `invalid egress prefix length ${options.prefixLength}`, undefined);
  const hostVeth = validateIfName(egressV6HostVethName(options.containerId));
  const host = hostSide(options.hostNetns);
  const pod = podRunner(netnsPath);
  await assertNetns(netnsPath);

  const links = await hostLinks(host);
  if (links.has(hostVeth)) await deleteHostLink(host, hostVeth);
  const hostMac = uniqueMac(new Set(links.values()));
  const podMac = randomMac();
  const ifName = EGRESS_V6_IFNAME;
  const ipOptions = ["-6"];
  const undo = async (step: StepLine["step"], error: unknown) => {
    const rollback: unknown[] = [];
    await deleteHostVethIfOurs(host, hostVeth, hostMac).catch((e: unknown) => rollback.push(e));
    return new PodNetworkError(step, message(error), error, rollback);
  };
  try {
    await podIpv6Sysctls(netnsPath, podIfName);
    const podPlan: StepLine[] = [...podVethLines({ ifName, podMac, hostVeth, hostMac, mtu }, host), { step: "pod-address", line: `addr add ${address}/${options.prefixLength} dev ${ifName} nodad` }];
    const podLines = podPlan.map((p) => p.line);
    const failure = (await ipBatch(pod, podLines, { ipOptions })).failures[0];
    if (failure !== undefined) throw await undo(podPlan[failure.line - 1]?.step ?? "veth", batchLineError(pod, podLines, failure, { ipOptions }));
    await setHostVethSysctls(host, hostVeth, { ipv6Pod: true });
    const hostLines = [`link set dev ${hostVeth} up`, `route replace ${address}/128 dev ${hostVeth}`];
    const hostFailure = (await ipBatch(host.runner, hostLines, { ipOptions })).failures[0];
    if (hostFailure !== undefined) throw await undo("host-route", batchLineError(host.runner, hostLines, hostFailure, { ipOptions }));
    const gateway = await linkLocalOf(host, hostVeth);
    const routeLines = [`route replace default via ${gateway} dev ${ifName}`];
    const routeFailure = (await ipBatch(pod, routeLines, { ipOptions })).failures[0];
    if (routeFailure !== undefined) throw await undo("pod-default-route", batchLineError(pod, routeLines, routeFailure, { ipOptions }));
    await enableIpv6Forwarding(options.hostNetns);
    return { hostVeth, gateway };
  } catch (error) {
    if (error instanceof PodNetworkError) throw error;
    throw await undo("veth", error);
  }
}

export async function teardownEgressV6(options: { containerId: string; hostNetns?: string | undefined }): Promise<void> {
  try {
    await deleteHostLink(hostSide(options.hostNetns), egressV6HostVethName(options.containerId));
  } catch (error) {
    if (!isNotFound(error)) throw new PodNetworkError("teardown", message(error), error);
  }
}

export async function checkEgressV6(options: { containerId: string; address: string; hostNetns?: string | undefined }): Promise<string[]> {
  const host = hostSide(options.hostNetns);
  const hostVeth = egressV6HostVethName(options.containerId);
  const { stdout } = await run(host.runner.file, [...host.runner.args, "-j", "-6", "route", "show", "table", "main", "exact", `${options.address}/128`]);
  const routes = JSON.parse(stdout) as Array<Record<string, unknown>>;
  return routes.some((r) => r["dev"] === hostVeth) ? [] : [`host route ${options.address} dev ${hostVeth}: ${routes.length === 0 ? "missing" : `via ${String(routes[0]?.["dev"])}`}`];
}

/** The host end's link-local address (the kernel's, made when the link came up; no DAD with accept_dad=0). */
async function linkLocalOf(host: HostSide, name: string): Promise<string> {
  const { stdout } = await run(host.runner.file, [...host.runner.args, "-j", "-6", "addr", "show", "dev", name, "scope", "link"]);
  const info = ((JSON.parse(stdout) as Array<Record<string, unknown>>)[0]?.["addr_info"] ?? []) as Array<Record<string, unknown>>;
  const local = info.find((a) => typeof a["local"] === "string" && String(a["local"]).startsWith("fe80:"))?.["local"];
  if (typeof local !== "string") throw new Error(`${name} has no IPv6 link-local address (IPv6 off on the host, or addr_gen_mode none)`);
  return local;
}

/** IPv6 on in the pod's namespace for v6if0 (and lo), off on the pod's own interface. */
async function podIpv6Sysctls(netnsPath: string, podIfName: string): Promise<void> {
  const script = 'for i in default lo; do f=/proc/sys/net/ipv6/conf/$i/disable_ipv6; [ -e "$f" ] && echo 0 > "$f"; done; f=/proc/sys/net/ipv6/conf/$1/disable_ipv6; [ -e "$f" ] && echo 1 > "$f"; exit 0';
  await run("nsenter", [`--net=${netnsPath}`, resolveTool("sh"), "-c", script, "sh", podIfName]);
}

async function enableIpv6Forwarding(hostNetns: string | undefined): Promise<void> {
  if (hostNetns === undefined) {
    writeFileSync("/proc/sys/net/ipv6/conf/all/forwarding", "1");
    return;
  }
  await run("ip", ["netns", "exec", hostNetns, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"]);
}
