// egress-cni's SNAT (reference §1.4, upstream snat/snat.go): a nat chain per attachment,
// CNI-E4-<hash of network name and container id> (IPv4, iptables) or CNI-E6-<hash> (IPv6,
// ip6tables), that lets multicast through (224.0.0.0/4, ff00::/8) and SNATs the rest to the node's
// address, and a POSTROUTING jump to it for the pod's egress address. Every rule carries the CNI
// comment `name: "<network>" id: "<container id>"`. One iptables-restore each way.

import { createHash } from "node:crypto";
import { iptablesHasRandomFully, iptablesRestore, iptablesSave, type SavedRule } from "../iptables.ts";
import { validatePodAddress } from "../validate.ts";
import type { IptablesFamily } from "../iptables.ts";

export type SnatRandomization = "prng" | "hashrandom" | "none";

/** libcni's chain name: "CNI-" + (prefix + sha512(name + id) in hex), 28 characters in all. */
export function egressChainName(network: string, containerId: string, prefix = "E4-"): string {
  const hex = createHash("sha512").update(network + containerId).digest("hex");
  return `CNI-${(prefix + hex).slice(0, 24)}`;
}

/** The CNI-format comment of every rule, as iptables-save prints it back. */
export function egressComment(network: string, containerId: string): string {
  return `name: ${JSON.stringify(network)} id: ${JSON.stringify(containerId)}`;
}

const quoted = (text: string) => `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

const chainPrefix = (family: IptablesFamily) => (family === "6" ? "E6-" : "E4-");
const MULTICAST: Readonly<Record<IptablesFamily, string>> = { "4": "224.0.0.0/4", "6": "ff00::/8" };

export async function setupEgressSnat(o: { network: string; containerId: string; address: string; nodeIp: string; randomize: SnatRandomization; hostNetns?: string | undefined }): Promise<string> {
  const { address, family } = validatePodAddress(o.address, "egress address");
  const node = validatePodAddress(o.nodeIp, "node address");
  if (node.family !== family) throw new Error(`egress address ${address} and node address ${o.nodeIp} are of different families`);
  const len = family === "6" ? 128 : 32;
  const chain = egressChainName(o.network, o.containerId, chainPrefix(family));
  const comment = `-m comment --comment ${quoted(egressComment(o.network, o.containerId))}`;
  const target = { netns: o.hostNetns };
  let random = "";
  if (o.randomize === "hashrandom") random = " --random";
  else if (o.randomize === "prng") random = (await iptablesHasRandomFully(target)) ? " --random-fully" : " --random";
  const saved = await iptablesSave(target, "nat", family);
  const jump = saved.rules.some((r) => r.chain === "POSTROUTING" && r.spec.includes(`-j ${chain}`) && r.spec.includes(`-s ${address}/${len}`));
  // Declaring the chain flushes it (--noflush keeps everything else), so a repeated ADD is exact.
  const script = [
    "*nat",
    `:${chain} - [0:0]`,
    `-A ${chain} -d ${MULTICAST[family]} ${comment} -j ACCEPT`,
    `-A ${chain} ${comment} -j SNAT --to-source ${node.address}${random}`,
    ...(jump ? [] : [`-A POSTROUTING -s ${address}/${len} ${comment} -j ${chain}`]),
    "COMMIT",
    "",
  ].join("\n");
  await iptablesRestore(target, script, family);
  return chain;
}

/** Removes every POSTROUTING jump to the attachment's chain, then the chain. Gone is fine. */
export async function teardownEgressSnat(o: { network: string; containerId: string; family?: IptablesFamily; hostNetns?: string | undefined }): Promise<void> {
  const family = o.family ?? "4";
  const chain = egressChainName(o.network, o.containerId, chainPrefix(family));
  const target = { netns: o.hostNetns };
  const saved = await iptablesSave(target, "nat", family);
  const jumps: SavedRule[] = saved.rules.filter((r) => r.chain === "POSTROUTING" && new RegExp(`-j ${chain}( |$)`).test(r.spec));
  const exists = saved.chains.includes(chain);
  if (jumps.length === 0 && !exists) return;
  const script = ["*nat", ...jumps.map((r) => `-D POSTROUTING ${r.spec}`), ...(exists ? [`-F ${chain}`, `-X ${chain}`] : []), "COMMIT", ""].join("\n");
  await iptablesRestore(target, script, family);
}

/** Whether the chain and the pod's jump are in place (CHECK). */
export async function egressSnatDrifts(o: { network: string; containerId: string; address: string; hostNetns?: string | undefined }): Promise<string[]> {
  const { family } = validatePodAddress(o.address, "egress address");
  const len = family === "6" ? 128 : 32;
  const chain = egressChainName(o.network, o.containerId, chainPrefix(family));
  const saved = await iptablesSave({ netns: o.hostNetns }, "nat", family);
  const drifts: string[] = [];
  if (!saved.rules.some((r) => r.chain === chain && r.spec.includes("-j SNAT"))) drifts.push(`nat chain ${chain}: no SNAT rule`);
  if (!saved.rules.some((r) => r.chain === "POSTROUTING" && r.spec.includes(`-s ${o.address}/${len}`) && r.spec.includes(`-j ${chain}`))) drifts.push(`POSTROUTING -s ${o.address}/${len} -j ${chain}: missing`);
  return drifts;
}
