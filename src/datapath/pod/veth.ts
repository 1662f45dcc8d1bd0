// The pod's veth pair, the part every pod recipe shares: created from inside the pod's namespace with
// the host end placed directly on the host (so the pod's interface name never exists on the host,
// where eth0 is taken), a host MAC no other host link has, the host end's IPv6 sysctls set before it
// comes up, and a rollback that deletes the host end only when it is provably this ADD's.

import { readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { isNotFound, resolveTool, run } from "../exec.ts";
import type { PodDrift } from "./drift.ts";
import { linkFlags } from "./drift.ts";
import type { StepLine } from "./errors.ts";
import type { HostSide } from "./namespaces.ts";

/** Host links by name → lower-case MAC. */
export async function hostLinks(host: HostSide): Promise<Map<string, string>> {
  const links = new Map<string, string>();
  if (host.netns !== undefined) {
    const { stdout } = await run(host.runner.file, [...host.runner.args, "-j", "link", "show"]);
    for (const entry of JSON.parse(stdout) as Array<Record<string, unknown>>) {
      links.set(String(entry["ifname"]), typeof entry["address"] === "string" ? entry["address"].toLowerCase() : "");
    }
    return links;
  }
  // /proc/self/net is always this process's namespace (sysfs is the mounter's, hence names from
  // here); a MAC that cannot be read only weakens the uniqueness check, which is a courtesy.
  for (const line of readFileSync("/proc/self/net/dev", "utf8").split("\n").slice(2)) {
    const name = line.split(":")[0]?.trim();
    if (name === undefined || name === "") continue;
    let mac = "";
    try {
      mac = readFileSync(`/sys/class/net/${name}/address`, "utf8").trim().toLowerCase();
    } catch {
      // Vanished meanwhile, or sysfs of another namespace: keep the name.
    }
    links.set(name, mac);
  }
  return links;
}

/** A random locally administered unicast MAC (first octet x2/x6/xA/xE). */
export function randomMac(): string {
  const bytes = randomBytes(6);
  bytes[0] = ((bytes[0] ?? 0) & 0xfc) | 0x02;
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join(":");
}

/** Reference: 10 tries at a MAC no host link has. */
export function uniqueMac(inUse: ReadonlySet<string>): string {
  for (let attempt = 0; attempt < 10; attempt++) {
    const mac = randomMac();
    if (!inUse.has(mac)) return mac;
  }
  throw new Error("no unique MAC address after 10 tries");
}

export interface VethPair {
  /** CNI_IFNAME: the pod's end. */
  ifName: string;
  podMac: string;
  hostVeth: string;
  hostMac: string;
  mtu: number;
}

/** In the pod's namespace: the pair, with the host end sent to the host, and the pod's end up. */
export function podVethLines(pair: VethPair, host: HostSide): StepLine[] {
  const { ifName, podMac, hostVeth, hostMac, mtu } = pair;
  return [
    { step: "veth", line: `link add name ${ifName} address ${podMac} mtu ${mtu} type veth peer name ${hostVeth} address ${hostMac} mtu ${mtu} netns ${host.nsRef}` },
    { step: "pod-link-up", line: `link set dev ${ifName} up` },
  ];
}

/** On the host, once its sysctls are set: the host end up. */
export function hostVethUpLine(hostVeth: string): StepLine {
  return { step: "host-link-up", line: `link set dev ${hostVeth} up` };
}

const HOST_VETH_SYSCTLS: ReadonlyArray<readonly [string, string]> = [
  // No router advertisements or forwarding on the host end (IPv6); redirects accepted as the
  // reference does. Set before the link is up so no RA is ever processed on it.
  ["accept_ra", "0"],
  ["accept_redirects", "1"],
  ["forwarding", "0"],
];

/**
 * For IPv6 pods also no duplicate address detection on the host end: its link-local address is what
 * the host sends neighbour solicitations for the pod's address from, and while it is tentative (a
 * second or two) the pod's first replies would wait. A veth has one peer, so there is nothing to detect.
 */
const HOST_VETH_SYSCTLS_V6: ReadonlyArray<readonly [string, string]> = [...HOST_VETH_SYSCTLS, ["accept_dad", "0"]];

/** The host veth's IPv6 sysctls; absent (IPv6 disabled) is fine, as in the reference. */
export async function setHostVethSysctls(host: HostSide, name: string, options: { ipv6Pod?: boolean } = {}): Promise<void> {
  const sysctls = options.ipv6Pod ? HOST_VETH_SYSCTLS_V6 : HOST_VETH_SYSCTLS;
  if (host.netns === undefined) {
    // /proc/sys/net shows the namespace of the process that opens it: ours.
    for (const [key, value] of sysctls) {
      try {
        writeFileSync(`/proc/sys/net/ipv6/conf/${name}/${key}`, value);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
    }
    return;
  }
  // Another namespace's /proc/sys needs a process inside it. The name is an argument ($1), never
  // part of the script text.
  const script = 'd=/proc/sys/net/ipv6/conf/$1; [ -d "$d" ] || exit 0; ' + sysctls.map(([key, value]) => `echo ${value} > "$d/${key}"`).join(" && ");
  await run("nsenter", [`--net=/var/run/netns/${host.netns}`, resolveTool("sh"), "-c", script, "sh", name]);
}

/**
 * IPv6 pods: IPv6 on in the pod's namespace for its interfaces to come (`default`) and for lo, as the
 * reference sets disable_ipv6=0 on the pod's interface and lo. Written before the interface exists, so
 * it is created with IPv6 on.
 */
export async function enablePodIpv6(netnsPath: string): Promise<void> {
  const script = 'for i in default lo; do f=/proc/sys/net/ipv6/conf/$i/disable_ipv6; [ -e "$f" ] && [ "$(cat "$f")" != 0 ] && echo 0 > "$f"; done; exit 0';
  await run("nsenter", [`--net=${netnsPath}`, resolveTool("sh"), "-c", script]);
}

export async function deleteHostLink(host: HostSide, name: string): Promise<void> {
  try {
    await run(host.runner.file, [...host.runner.args, "link", "del", "dev", name]);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Deletes the host link only if it carries the MAC we generated: proof that this ADD created it. */
export async function deleteHostVethIfOurs(host: HostSide, name: string, mac: string): Promise<void> {
  let stdout: string;
  try {
    ({ stdout } = await run(host.runner.file, [...host.runner.args, "-j", "link", "show", "dev", name]));
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  const entry = (JSON.parse(stdout) as Array<Record<string, unknown>>)[0];
  if (entry === undefined || String(entry["address"]).toLowerCase() !== mac) return;
  await deleteHostLink(host, name);
}

/** CHECK of the pair: both ends there and up. Also gives the host end's MAC, which the pod's neighbour entry must carry. */
export function vethDrifts(podLinks: ReadonlyArray<Record<string, unknown>>, hostLinksRaw: ReadonlyArray<Record<string, unknown>>, ifName: string, hostVeth: string): { drifts: PodDrift[]; hostMac: string | undefined } {
  const drifts: PodDrift[] = [];
  const podLink = podLinks.find((entry) => entry["ifname"] === ifName);
  if (podLink === undefined) drifts.push({ item: "pod-interface", expected: `${ifName} up`, found: "missing" });
  else if (!linkFlags(podLink).includes("UP")) drifts.push({ item: "pod-interface", expected: `${ifName} up`, found: `${ifName} down` });

  const hostLink = hostLinksRaw.find((entry) => entry["ifname"] === hostVeth);
  const hostMac = typeof hostLink?.["address"] === "string" ? hostLink["address"].toLowerCase() : undefined;
  if (hostLink === undefined) drifts.push({ item: "host-veth", expected: `${hostVeth} up`, found: "missing" });
  else if (!linkFlags(hostLink).includes("UP")) drifts.push({ item: "host-veth", expected: `${hostVeth} up`, found: `${hostVeth} down` });
  return { drifts, hostMac };
}
