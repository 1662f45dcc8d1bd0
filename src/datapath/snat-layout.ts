// The reference's node-level iptables layout (reference §5.1: buildIptablesSNATRules and the
// iptables connmark backend), as the rule texts iptables-save prints, so that comparing the kernel's
// state with the layout is a comparison of strings. Names, comments and the 0x80 mark are exactly the
// reference's: other tooling (and the reference itself, on a switch back) matches on them.

import type { Ownership, TableLayout } from "./iptables-plan.ts";
import { hexMark } from "./validate.ts";

export const SNAT_CHAIN = "AWS-SNAT-CHAIN-0";
export const CONNMARK_CHAIN = "AWS-CONNMARK-CHAIN-0";
const SNAT_CHAIN_PREFIX = "AWS-SNAT-CHAIN";
const CONNMARK_CHAIN_PREFIX = "AWS-CONNMARK-CHAIN";

/** AWS_VPC_K8S_CNI_RANDOMIZESNAT: prng → --random-fully, hashrandom → --random, none → no flag. */
export type RandomizeSnat = "prng" | "hashrandom" | "none";

export interface SnatLayoutInput {
  /** Primary interface name (the `-i` of the NodePort connmark rule). */
  primaryIf: string;
  primaryIp: string;
  /** Canonical VPC CIDRs. */
  vpcCidrs: readonly string[];
  /** Canonical AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS. */
  excludeSnatCidrs: readonly string[];
  externalSnat: boolean;
  randomizeSnat: RandomizeSnat;
  /** False when iptables lacks --random-fully: prng then falls back to --random, as in the reference. */
  randomFullySupported: boolean;
  connmark: number;
  nodePortSupport: boolean;
  vethPrefix: string;
}

const comment = (text: string) => `-m comment --comment "${text}"`;

/** `-d CIDR` except for 0.0.0.0/0, which the kernel stores (and iptables-save prints) as no match. */
const toCidr = (cidr: string) => (cidr === "0.0.0.0/0" ? "" : `-d ${cidr} `);

export function snatFlag(mode: RandomizeSnat, randomFullySupported: boolean): string {
  if (mode === "none") return "";
  if (mode === "hashrandom" || !randomFullySupported) return " --random";
  return " --random-fully";
}

export function buildNatLayout(input: SnatLayoutInput): TableLayout {
  const mark = hexMark(input.connmark);
  const ownedChains = new Map<string, string[]>();
  const rulesInChains = new Map<string, string[]>();
  if (input.externalSnat) {
    // The reference always creates AWS-SNAT-CHAIN-0 and leaves it empty under external SNAT; the
    // connmark backend's Cleanup deletes its chain.
    ownedChains.set(SNAT_CHAIN, []);
    return { ownedChains, rulesInChains };
  }
  const snat: string[] = [];
  for (const cidr of input.vpcCidrs) snat.push(`${toCidr(cidr)}${comment("AWS SNAT CHAIN")} -j RETURN`);
  for (const cidr of input.excludeSnatCidrs) snat.push(`${toCidr(cidr)}${comment("AWS SNAT CHAIN EXCLUSION")} -j RETURN`);
  snat.push(
    `! -o vlan+ ${comment("AWS, SNAT")} -m addrtype ! --dst-type LOCAL -j SNAT --to-source ${input.primaryIp}` +
      snatFlag(input.randomizeSnat, input.randomFullySupported),
  );
  ownedChains.set(SNAT_CHAIN, snat);
  rulesInChains.set("POSTROUTING", [`${comment("AWS SNAT CHAIN")} -j ${SNAT_CHAIN}`]);

  // Exempt = VPC CIDRs then exclusions; one RETURN each (a CIDR in both lists once, as the reference's
  // exists-check leaves it).
  const exempt: string[] = [];
  for (const cidr of [...input.vpcCidrs, ...input.excludeSnatCidrs]) if (!exempt.includes(cidr)) exempt.push(cidr);
  const connmark = exempt.map((cidr) => `${toCidr(cidr)}${comment("AWS CONNMARK CHAIN")} -j RETURN`);
  connmark.push(`${comment("AWS, CONNMARK")} -j CONNMARK --set-xmark ${mark}/${mark}`);
  ownedChains.set(CONNMARK_CHAIN, connmark);
  rulesInChains.set("PREROUTING", [
    `-i ${input.vethPrefix}+ ${comment("AWS, outbound connections")} -j ${CONNMARK_CHAIN}`,
    `${comment("AWS, CONNMARK")} -j CONNMARK --restore-mark --nfmask ${mark} --ctmask ${mark}`,
  ]);
  return { ownedChains, rulesInChains };
}

export function buildMangleLayout(input: SnatLayoutInput): TableLayout {
  const mark = hexMark(input.connmark);
  const prerouting: string[] = [];
  if (input.nodePortSupport) {
    prerouting.push(
      `-i ${input.primaryIf} ${comment("AWS, primary ENI")} -m addrtype --dst-type LOCAL --limit-iface-in -j CONNMARK --set-xmark ${mark}/${mark}`,
    );
  }
  if (input.nodePortSupport || !input.externalSnat) {
    prerouting.push(`-i ${input.vethPrefix}+ ${comment("AWS, primary ENI")} -j CONNMARK --restore-mark --nfmask ${mark} --ctmask ${mark}`);
  }
  if (input.nodePortSupport) {
    prerouting.push(`-i vlan+ ${comment("AWS, primary ENI")} -j CONNMARK --restore-mark --nfmask ${mark} --ctmask ${mark}`);
  }
  const rulesInChains = new Map<string, string[]>();
  if (prerouting.length > 0) rulesInChains.set("PREROUTING", prerouting);
  return { ownedChains: new Map(), rulesInChains };
}

// Comments that mark a rule in a built-in chain as ours; "AWS, SNAT" also catches the SNAT rule that
// aws-node versions before the SNAT chain put straight into POSTROUTING.
const NAT_COMMENTS = ["AWS SNAT CHAIN", "AWS, SNAT", "AWS, outbound connections", "AWS, CONNMARK"];
const MANGLE_COMMENTS = ["AWS, primary ENI"];

function hasComment(spec: string, comments: readonly string[]): boolean {
  return comments.some((text) => spec.includes(comment(text)));
}

const ownsNatChain = (chain: string) => chain.startsWith(SNAT_CHAIN_PREFIX) || chain.startsWith(CONNMARK_CHAIN_PREFIX);

export const natOwnership: Ownership = {
  ownsChain: ownsNatChain,
  ownsRule(_chain, spec) {
    const jump = /(?:^| )-[jg] (\S+)/.exec(spec)?.[1];
    return hasComment(spec, NAT_COMMENTS) || (jump !== undefined && ownsNatChain(jump));
  },
};

export const mangleOwnership: Ownership = {
  ownsChain: () => false,
  ownsRule: (_chain, spec) => hasComment(spec, MANGLE_COMMENTS),
};
