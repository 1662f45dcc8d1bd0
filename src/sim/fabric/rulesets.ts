// The nftables rulesets of the VPC router and the internet gateway, and the element statements
// that keep them in step with EC2. Both tables are created once per run; afterwards only set and
// map elements change, each change one `nft -f` transaction, so an update is atomic and costs the
// same however many ENIs exist.

export const ROUTER_TABLE = "vpcsim";
export const IGW_TABLE = "vpcsim_igw";

/** Prefix of every router-side ENI veth; the source check applies to exactly these links. */
export const ENI_LINK_PREFIX = "v";

/**
 * Source/destination check in the VPC router. It hooks prerouting (not forward) so that it also
 * guards traffic to the router itself: IMDS tells instances apart by source address, so a spoofed
 * source must not reach it either. It matches links by name prefix rather than by a membership
 * set, so an ENI veth is checked from the moment it exists: until its addresses are added it can
 * send nothing, which fails closed.
 */
export function routerRuleset(): string {
  return `
table ip ${ROUTER_TABLE} {
  set eni_sources {
    type ifname . ipv4_addr
    flags interval
  }
  set unchecked_enis {
    type ifname
  }
  counter spoofed_sources {
  }
  chain source_dest_check {
    type filter hook prerouting priority raw; policy accept;
    iifname != "${ENI_LINK_PREFIX}*" accept
    iifname @unchecked_enis accept
    iifname . ip saddr @eni_sources accept
    counter name "spoofed_sources" drop
  }
}
`;
}

/**
 * The internet gateway: stateless 1:1 NAT, as AWS's gateway does it. Stateless rewriting (no
 * conntrack NAT) means a mapping change takes effect on the next packet, with no conntrack entries
 * to flush, and traffic between two public addresses hairpins correctly. Inbound traffic to an
 * unmapped address and outbound traffic from a private address without a public one are dropped
 * and counted: that is how a missing SNAT shows up, as on AWS.
 */
export function igwRuleset(routerLink: string, externalLink: string, externalGateway: string): string {
  return `
table ip ${IGW_TABLE} {
  map public_to_private {
    type ipv4_addr : ipv4_addr
  }
  map private_to_public {
    type ipv4_addr : ipv4_addr
  }
  counter unmapped_inbound {
  }
  counter unmapped_outbound {
  }
  chain inbound {
    type filter hook prerouting priority raw; policy accept;
    notrack
    iifname "${externalLink}" ip daddr ${externalGateway} accept
    iifname "${externalLink}" ip daddr != @public_to_private counter name "unmapped_inbound" drop
    ip daddr set ip daddr map @public_to_private
  }
  chain outbound {
    type filter hook forward priority filter; policy accept;
    iifname "${routerLink}" ip saddr != @private_to_public counter name "unmapped_outbound" drop
    iifname "${routerLink}" ip saddr set ip saddr map @private_to_public
  }
  chain local_output {
    type filter hook output priority raw; policy accept;
    notrack
  }
}
`;
}

export function elementStatement(verb: "add" | "delete", table: string, set: string, elements: readonly string[]): string {
  if (elements.length === 0) return "";
  return `${verb} element ip ${table} ${set} { ${elements.join(", ")} }\n`;
}
