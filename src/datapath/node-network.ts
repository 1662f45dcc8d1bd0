// Node-level host networking (reference §5.1, SetupHostNetwork + UpdateHostSNATRules +
// CleanUpStaleAWSChains, and the init container's rp_filter): primary ENI MTU, rp_filter=2, the
// fwmark rule at 1024, the external-service rules at 1535, the SNAT and connmark chains and the
// mangle connmark rules. Every call converges the node to the layout the options describe, whatever
// an earlier run (ours or an older aws-node) left, and changes nothing when it is already there.

import { inNetns, ip, isNotFound, type NetnsOption } from "./exec.ts";
import { findLinkByMac, reconcileRules, setLinkMtu, type IpRule, type LinkWait } from "./ip.ts";
import { iptablesHasRandomFully, iptablesRestore, iptablesSave } from "./iptables.ts";
import { planTable } from "./iptables-plan.ts";
import { ensureNodeSysctls } from "./node-sysctls.ts";
import { serialized } from "./serialize.ts";
import { buildMangleLayout, buildNatLayout, mangleOwnership, natOwnership, type RandomizeSnat, type SnatLayoutInput } from "./snat-layout.ts";
import {
  canonicalCidrs,
  DatapathInputError,
  hexMark,
  validateIpv4,
  validateMac,
  validateMark,
  validateMtu,
  validateVethPrefix,
} from "./validate.ts";

/** Rule priorities (reference §5.6). */
export const HOST_RULE_PRIORITY = 1024;
export const EXTERNAL_SERVICE_RULE_PRIORITY = 1535;
/** aws-node before #1475 used `not to <VPC CIDR> lookup main` at 1024 and 1025. */
const LEGACY_VPC_RULE_PRIORITY = 1025;

export const DEFAULT_CONNMARK = 0x80;
export const DEFAULT_MTU = 9001;
/** Reference linkByMac: 5 attempts, 3 s apart. */
export const DEFAULT_LINK_WAIT: LinkWait = { attempts: 5, intervalMs: 3000 };

export interface NodeNetworkOptions extends NetnsOption {
  /** MAC of the primary ENI (IMDS `mac`); the interface is found by it. */
  primaryMac: string;
  /** The node's primary private IPv4 (IMDS `local-ipv4`), the SNAT source. */
  primaryIp: string;
  /** VPC CIDRs (IMDS `vpc-ipv4-cidr-blocks`). */
  vpcCidrs: readonly string[];
  /** AWS_VPC_ENI_MTU, default 9001. */
  mtu?: number;
  /** AWS_VPC_K8S_CNI_EXTERNALSNAT, default false. */
  externalSnat?: boolean;
  /** AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS (already parsed), default none. Unused under external SNAT. */
  excludeSnatCidrs?: readonly string[];
  /** AWS_VPC_K8S_CNI_RANDOMIZESNAT, default prng. */
  randomizeSnat?: RandomizeSnat;
  /** AWS_VPC_K8S_CNI_CONNMARK, default 0x80. */
  connmark?: number;
  /** AWS_VPC_CNI_NODE_PORT_SUPPORT, default true. */
  nodePortSupport?: boolean;
  /** AWS_EXTERNAL_SERVICE_CIDRS, default none. */
  externalServiceCidrs?: readonly string[];
  /** AWS_VPC_K8S_CNI_VETHPREFIX, default "eni". */
  vethPrefix?: string;
  /** Set rp_filter=2 on the primary interface (the reference's init container does it); default true. */
  setRpFilter?: boolean;
  /**
   * ENABLE_IPv6 (reference §5.7): the IPv6 sysctls, the fwmark rule in IPv6, no IPv4 SNAT or connmark
   * (IPv6 pods' own traffic is not translated; their IPv4 egress is egress-cni's), and the FORWARD guard
   * that keeps connections from reaching pods' 169.254.172.0/22 egress addresses.
   */
  ipv6?: boolean;
  /**
   * ENABLE_V6_EGRESS on an IPv4 node: IPv6 forwarding with accept_ra=2 on the primary interface, and
   * the IPv6 FORWARD guard for the pods' fd00::ac:00/118 egress addresses.
   */
  v6Egress?: boolean;
  linkWait?: LinkWait;
}

export interface NodeNetworkResult {
  /** Name of the primary interface found by MAC. */
  primaryIf: string;
}

interface Resolved {
  layout: Omit<SnatLayoutInput, "primaryIf" | "randomFullySupported">;
  primaryMac: string;
  mtu: number;
  externalServiceCidrs: string[];
  setRpFilter: boolean;
  ipv6: boolean;
  v6Egress: boolean;
  linkWait: LinkWait;
}

function resolve(options: NodeNetworkOptions): Resolved {
  if (!Array.isArray(options.vpcCidrs) || options.vpcCidrs.length === 0) {
    throw new DatapathInputError("vpcCidrs must list at least one VPC CIDR");
  }
  const randomizeSnat = options.randomizeSnat ?? "prng";
  if (!["prng", "hashrandom", "none"].includes(randomizeSnat)) {
    throw new DatapathInputError(`invalid randomizeSnat ${JSON.stringify(randomizeSnat)}: prng, hashrandom or none`);
  }
  const externalSnat = options.externalSnat ?? false;
  return {
    layout: {
      primaryIp: validateIpv4(options.primaryIp, "primary IP"),
      vpcCidrs: canonicalCidrs(options.vpcCidrs, "VPC CIDR"),
      // The reference's GetExcludeSNATCIDRs returns nothing under external SNAT.
      excludeSnatCidrs: externalSnat ? [] : canonicalCidrs(options.excludeSnatCidrs ?? [], "exclude-SNAT CIDR"),
      externalSnat,
      randomizeSnat,
      connmark: validateMark(options.connmark ?? DEFAULT_CONNMARK),
      nodePortSupport: options.nodePortSupport ?? true,
      vethPrefix: validateVethPrefix(options.vethPrefix ?? "eni"),
    },
    primaryMac: validateMac(options.primaryMac),
    mtu: validateMtu(options.mtu ?? DEFAULT_MTU),
    externalServiceCidrs: canonicalCidrs(options.externalServiceCidrs ?? [], "external service CIDR"),
    setRpFilter: options.setRpFilter ?? true,
    ipv6: options.ipv6 ?? false,
    v6Egress: !(options.ipv6 ?? false) && (options.v6Egress ?? false),
    linkWait: options.linkWait ?? DEFAULT_LINK_WAIT,
  };
}

/** Sets up (or converges) the node's host networking. Idempotent; safe on every agent start. */
export async function setupNodeNetwork(options: NodeNetworkOptions): Promise<NodeNetworkResult> {
  const resolved = resolve(options);
  const target: NetnsOption = { netns: options.netns };
  return serialized(options.netns, async () => {
    const link = await findLinkByMac(target, resolved.primaryMac, resolved.linkWait);
    if (link.mtu !== resolved.mtu) await setLinkMtu(target, link.ifname, resolved.mtu);
    await ensureNodeSysctls(target, link.ifname, { rpFilter: resolved.setRpFilter, ipv6: resolved.ipv6, v6Egress: resolved.v6Egress });
    await reconcileNodeRules(target, resolved);
    if (resolved.ipv6) {
      await ensureIpv6FwmarkRule(target, resolved.layout.connmark);
      await ensureEgressGuard(target, "4");
    } else {
      await applyIptables(target, resolved, link.ifname);
      if (resolved.v6Egress) await ensureEgressGuard(target, "6");
    }
    return { primaryIf: link.ifname };
  });
}

/** egress-cni's ranges (reference §1.4): IPv4 on IPv6 nodes, IPv6 on IPv4 nodes with ENABLE_V6_EGRESS. */
export const EGRESS_V4_RANGE = "169.254.172.0/22";
export const EGRESS_V6_RANGE = "fd00::ac:0/118";

/**
 * Reference setupRuleToBlockNodeLocalAccess: FORWARD rule 1 rejects new connections to the pods'
 * egress addresses (the same range on every node; only the pods' own connections may use them).
 */
async function ensureEgressGuard(target: NetnsOption, family: "4" | "6"): Promise<void> {
  const comment = `Block Node Local Pod access via IPv${family}`;
  const filter = await iptablesSave(target, "filter", family);
  const rule = `-d ${family === "6" ? EGRESS_V6_RANGE : EGRESS_V4_RANGE} -m conntrack --ctstate NEW -m comment --comment "${comment}" -j REJECT`;
  if (filter.rules.some((r) => r.chain === "FORWARD" && r.spec.includes(comment))) return;
  await iptablesRestore(target, `*filter\n-I FORWARD 1 ${rule}\nCOMMIT\n`, family);
}

/** The fwmark rule at 1024 in the mode's family (reference §5.1): IPv6 here. */
async function ensureIpv6FwmarkRule(target: NetnsOption, connmark: number): Promise<void> {
  const mark = hexMark(connmark);
  const { stdout } = await ip(target, ["-6", "-j", "rule", "show", "priority", String(HOST_RULE_PRIORITY)]);
  const rules = JSON.parse(stdout || "[]") as Array<Record<string, unknown>>;
  if (rules.some((r) => r["fwmark"] === mark && r["table"] === "main")) return;
  await ip(target, ["-6", "rule", "add", "fwmark", `${mark}/${mark}`, "lookup", "main", "priority", String(HOST_RULE_PRIORITY)]);
}

/**
 * Rebuilds the SNAT and connmark rules for a changed VPC CIDR set (the reference's 30 s CIDR
 * watcher calling UpdateHostIptablesRules). Takes the full options so the rebuilt chains carry the
 * same settings; only iptables is touched.
 */
export async function updateVpcCidrs(options: NodeNetworkOptions): Promise<NodeNetworkResult> {
  const resolved = resolve(options);
  const target: NetnsOption = { netns: options.netns };
  return serialized(options.netns, async () => {
    const link = await findLinkByMac(target, resolved.primaryMac, resolved.linkWait);
    // IPv6 nodes have no IPv4 SNAT or connmark rules to rebuild.
    if (!resolved.ipv6) await applyIptables(target, resolved, link.ifname);
    return { primaryIf: link.ifname };
  });
}

async function reconcileNodeRules(target: NetnsOption, resolved: Resolved): Promise<void> {
  const { connmark, nodePortSupport, externalSnat } = resolved.layout;
  const desired: Array<Omit<IpRule, "other">> = [];
  // Marked traffic (NodePort replies, non-VPC pod egress) is routed by the main table, i.e. out of
  // the primary ENI where it is SNATed. Needed iff node-port support or on-node SNAT.
  if (!resolved.ipv6 && (nodePortSupport || !externalSnat)) {
    desired.push({ priority: HOST_RULE_PRIORITY, table: "main", not: false, fwmark: hexMark(connmark), fwmask: hexMark(connmark) });
  }
  for (const cidr of resolved.externalServiceCidrs) {
    const [dst = "", len = "32"] = cidr.split("/");
    desired.push({ priority: EXTERNAL_SERVICE_RULE_PRIORITY, table: "main", not: false, dst, dstlen: Number(len) });
  }
  await reconcileRules(
    target,
    (rule) =>
      // 1024 is reserved for this rule (reference network.go); at 1025 and 1535 only main-table
      // rules are ours (the legacy `not to <VPC CIDR>` rule and the external-service rules).
      rule.priority === HOST_RULE_PRIORITY ||
      (rule.priority === LEGACY_VPC_RULE_PRIORITY && rule.table === "main" && rule.not) ||
      (rule.priority === EXTERNAL_SERVICE_RULE_PRIORITY && rule.table === "main"),
    desired,
  );
}

async function applyIptables(target: NetnsOption, resolved: Resolved, primaryIf: string): Promise<void> {
  const input: SnatLayoutInput = {
    ...resolved.layout,
    primaryIf,
    randomFullySupported: resolved.layout.randomizeSnat === "prng" ? await iptablesHasRandomFully(target) : true,
  };
  // nat first: it holds the chains the mangle rules' marks are about; each table is one transaction.
  const nat = planTable("nat", await iptablesSave(target, "nat"), buildNatLayout(input), natOwnership);
  await iptablesRestore(target, nat);
  const mangle = planTable("mangle", await iptablesSave(target, "mangle"), buildMangleLayout(input), mangleOwnership);
  await iptablesRestore(target, mangle);
  await removeNftablesConnmark(target);
}

/**
 * The reference's nftables connmark backend keeps its rules in `table ip aws-cni`; with the iptables
 * backend in place they would mark traffic twice, so that table goes (as the reference does when it
 * switches backend). A missing table or a missing nft binary means there is nothing to remove.
 */
async function removeNftablesConnmark(target: NetnsOption): Promise<void> {
  try {
    await inNetns(target, "nft", ["delete", "table", "ip", "aws-cni"]);
  } catch (error) {
    if (isNotFound(error)) return;
    if ((error as { cause?: { code?: string } }).cause?.code === "ENOENT") return;
    throw error;
  }
}
