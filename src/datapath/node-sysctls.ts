// The node's sysctls the datapath needs: loose reverse-path filtering on the primary ENI (replies to
// NodePort traffic marked back out of it arrive for addresses routed via other ENIs) and IPv4
// forwarding (pods are routed through the node; EKS's AMI turns it on, a plain EC2 image does not).
// Each is written only when it differs: aws-node's init container, privileged, sets them before the
// agent starts, and the agent's own container, with NET_ADMIN and NET_RAW only, sees /proc/sys
// read-only, so it must find them set and leave them alone.

import { inNetns, type NetnsOption } from "./exec.ts";

/** Sets `key` (slash-separated, so a dotted interface name stays one key) to `value` unless it already is; true when it wrote. */
export async function ensureSysctl(target: NetnsOption, key: string, value: string): Promise<boolean> {
  const current = (await inNetns(target, "sysctl", ["-n", key])).stdout.trim();
  if (current === value) return false;
  await inNetns(target, "sysctl", ["-q", "-w", `${key}=${value}`]);
  return true;
}

/**
 * Sets the node's sysctls for its primary interface `primaryIf`; returns the keys that had to be
 * written. With `ipv6` (ENABLE_IPv6) or `v6Egress` (ENABLE_V6_EGRESS), the reference's IPv6 ones too:
 * IPv6 on (ENABLE_IPv6 only), router advertisements still accepted on the primary interface although
 * the node forwards (accept_ra=2, written first: forwarding=1 alone would stop them and let the
 * RA-learnt default route expire), and IPv6 forwarding.
 */
export async function ensureNodeSysctls(target: NetnsOption, primaryIf: string, options: { rpFilter?: boolean; ipv6?: boolean; v6Egress?: boolean } = {}): Promise<string[]> {
  const wanted: [string, string][] = [["net/ipv4/ip_forward", "1"]];
  if (options.rpFilter ?? true) wanted.unshift([`net/ipv4/conf/${primaryIf}/rp_filter`, "2"]);
  if (options.ipv6) wanted.push(["net/ipv6/conf/all/disable_ipv6", "0"]);
  if (options.ipv6 || options.v6Egress) wanted.push([`net/ipv6/conf/${primaryIf}/accept_ra`, "2"], ["net/ipv6/conf/all/forwarding", "1"]);
  const written: string[] = [];
  for (const [key, value] of wanted) if (await ensureSysctl(target, key, value)) written.push(key);
  return written;
}
